// Compiled into every program of the sanitizer tree (KIM_SANITIZE): the sanitizers' default
// options, so that the tests, kim and kim-agent behave the same however they are started (ctest,
// a test spawning kim, by hand). Environment variables (ASAN_OPTIONS, ...) still override them.

// Every UBSan finding stops the program with its stack (it is compiled -fno-sanitize-recover);
// test/sanitizers/ubsan.supp lists the findings in libraries kim uses (each says why).
extern "C" const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:suppressions=" KIM_SANITIZER_DIR "/ubsan.supp";
}

#ifdef KIM_LSAN_STRICT
// The unit tests and fuzz targets (which run kim's OpenSSL code: PKI, TLS material, SSH keys)
// start no cpprestsdk threads and need no suppression: every leak fails them.
extern "C" const char* __lsan_default_options() { return "print_suppressions=0"; }
#else
// kim, kim-agent and the tests that run them skip what test/sanitizers/lsan.supp lists (each
// entry says why it is there).
extern "C" const char* __lsan_default_options() {
  return "suppressions=" KIM_SANITIZER_DIR "/lsan.supp:print_suppressions=0";
}
#endif
