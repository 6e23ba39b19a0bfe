// Compiled into every program of the sanitizer tree (KIM_SANITIZE): the sanitizers' default
// options, so that the tests, kim and kim-agent behave the same however they are started (ctest,
// a test spawning kim, by hand). Environment variables (ASAN_OPTIONS, ...) still override them.

// Every UBSan finding stops the program with its stack (it is compiled -fno-sanitize-recover);
// test/sanitizers/ubsan.supp lists the findings in libraries kim uses (each says why).
extern "C" const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:suppressions=" KIM_SANITIZER_DIR "/ubsan.supp";
}

// Leak reports skip what test/sanitizers/lsan.supp lists (each entry says why it is there).
extern "C" const char* __lsan_default_options() {
  return "suppressions=" KIM_SANITIZER_DIR "/lsan.supp:print_suppressions=0";
}

#ifndef KIM_FUZZ_TARGET
// The full stack of every allocation: Debian's libcrypto has no frame pointers, so the fast
// unwinder stops inside it and LSan could not tell OpenSSL's per-thread state (suppressed) from
// an OpenSSL object kim leaks. Fuzz targets keep the fast unwinder: they allocate too often.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif
