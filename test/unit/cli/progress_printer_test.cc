// Pull/push progress output: plain lines when piped, redrawn bars on a terminal.
#include <catch2/catch.hpp>

#include <sstream>

#include "apps/kim/output/progress_printer.h"

using kim::BlobProgress;
using kim::TransferState;
using kim::cli::ProgressPrinter;

namespace {
const std::string kLayer = "sha256:a1b8b9dfec5c81339db68caedc8c183601268e3eb0e3de31324fefe566258583";
}

TEST_CASE("a transferring line has a 50-column bar and sizes", "[output][progress]") {
  const std::string line = ProgressPrinter::Line(
      {.digest = kLayer, .state = TransferState::kTransferring, .offset = 500'000,
       .total = 1'000'000},
      false);
  CHECK(line == "a1b8b9dfec5c: Downloading [=========================>                        "
                "]    500kB/1MB");
  CHECK(ProgressPrinter::Line({.digest = kLayer, .state = TransferState::kDone}, true) ==
        "a1b8b9dfec5c: Pushed");
  CHECK(ProgressPrinter::Line({.digest = kLayer, .state = TransferState::kExists}, true) ==
        "a1b8b9dfec5c: Layer already exists");
}

TEST_CASE("piped output: one line per change of state, none per byte", "[output][progress]") {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/false, /*is_push=*/false);
  printer.Update({.digest = kLayer, .state = TransferState::kWaiting});
  for (int i = 1; i <= 10; ++i) {
    printer.Update({.digest = kLayer, .state = TransferState::kTransferring, .offset = i * 100,
                    .total = 1000});
  }
  printer.Update({.digest = kLayer, .state = TransferState::kDone, .offset = 1000, .total = 1000});
  printer.Finish();
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK(text.find("\033[") == std::string::npos);
  CHECK(text.find("a1b8b9dfec5c: Pull complete\n") != std::string::npos);
  CHECK(text.find("a1b8b9dfec5c: Downloading\n") != std::string::npos);  // no bar when piped
  CHECK(text.find("[") == std::string::npos);
}

TEST_CASE("terminal output redraws the lines in place", "[output][progress]") {
  std::ostringstream out;
  ProgressPrinter printer(out, /*tty=*/true, /*is_push=*/true);
  printer.Update({.digest = kLayer, .state = TransferState::kWaiting});
  printer.Update({.digest = "sha256:" + std::string(64, 'b'), .state = TransferState::kWaiting});
  printer.Update({.digest = kLayer, .state = TransferState::kDone});
  printer.Finish();
  const std::string text = out.str();
  CHECK(text.find("\033[2A") != std::string::npos);  // moved up over two lines to redraw
  CHECK(text.find("\033[2K") != std::string::npos);
  CHECK(text.rfind("a1b8b9dfec5c: Pushed") != std::string::npos);
}
