#!/usr/bin/env python3
"""An HTTP proxy in front of a real registry, for tests of how kim copes with failing answers.

Every request is forwarded unchanged (its Host header too, so that the registry's Location
headers point back at the proxy), except that the first COUNT requests whose method is METHOD
and whose path matches REGEX are answered with STATUS and an empty body instead:

    fault_proxy.py --upstream 127.0.0.1:5000 --fail 'PUT:1:503:/blobs/uploads/'

Prints "listening on PORT" on stderr once ready, then one "injected STATUS for METHOD PATH" line
per answer it made up.
"""
import argparse
import http.client
import http.server
import re
import sys
import threading


def parse_rule(spec):
    method, count, status, regex = spec.split(":", 3)
    return {"method": method, "count": int(count), "status": int(status), "regex": re.compile(regex)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the registry's host:port")
    parser.add_argument("--fail", action="append", default=[], help="METHOD:COUNT:STATUS:REGEX")
    args = parser.parse_args()
    rules = [parse_rule(spec) for spec in args.fail]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        def injected(self):
            with lock:
                for rule in rules:
                    if rule["count"] > 0 and rule["method"] == self.command and rule["regex"].search(self.path):
                        rule["count"] -= 1
                        print(f"injected {rule['status']} for {self.command} {self.path}", file=sys.stderr, flush=True)
                        return rule["status"]
            return None

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status = self.injected()
            if status is not None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            upstream = http.client.HTTPConnection(args.upstream, timeout=60)
            try:
                sends_body = length > 0 or self.command in ("PUT", "POST", "PATCH")
                upstream.request(self.command, self.path, body=body if sends_body else None,
                                 headers=dict(self.headers.items()))
                response = upstream.getresponse()
                data = response.read()
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() in ("transfer-encoding", "connection", "content-length"):
                        continue
                    self.send_header(name, value)
                if self.command == "HEAD":
                    self.send_header("Content-Length", response.getheader("Content-Length", "0"))
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
