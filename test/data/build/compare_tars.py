#!/usr/bin/env python3
"""Prints one line per member of each tar given (type, name, mode, uid, gid, size, link target,
sha256 of the content, mtime in ns unless the member is in the ignore list), so that two exports
can be compared line by line. Used by test/integration/build_test.cc."""
import hashlib
import sys
import tarfile

def describe(path, ignore_mtime):
    out = []
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            digest = ""
            if m.isfile():
                digest = hashlib.sha256(tar.extractfile(m).read()).hexdigest()
            mtime = "-" if m.name.rstrip("/") in ignore_mtime else repr(m.mtime)
            out.append(" ".join([m.type.decode() if isinstance(m.type, bytes) else str(m.type),
                                 repr(m.name), oct(m.mode), str(m.uid), str(m.gid), str(m.size),
                                 repr(m.linkname), digest, mtime]))
    return sorted(out)

a = describe(sys.argv[1], set(sys.argv[3:]))
b = describe(sys.argv[2], set(sys.argv[3:]))
if a != b:
    for line in sorted(set(a) ^ set(b)):
        print(("only in %s: " % (sys.argv[1] if line in a else sys.argv[2])) + line)
    sys.exit(1)
print("%d members identical" % len(a))
