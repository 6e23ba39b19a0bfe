// Compiled into every program of the sanitizer tree (KIM_SANITIZE): the sanitizers' default
// options, so that the tests, kim and kim-agent behave the same however they are started (ctest,
// a test spawning kim, by hand). Environment variables (ASAN_OPTIONS, ...) still override them.

// Every UBSan finding stops the program with its stack (it is compiled -fno-sanitize-recover).
extern "C" const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

// Leak reports skip what test/sanitizers/lsan.supp lists (each entry says why it is there).
extern "C" const char* __lsan_default_options() {
  return "suppressions=" KIM_LSAN_SUPPRESSIONS ":print_suppressions=0";
}
