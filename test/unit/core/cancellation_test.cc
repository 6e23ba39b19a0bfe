// Cancellation (include/kim/cancellation.h): callbacks run once, at Cancel or at once when late.
#include <catch2/catch.hpp>

#include <thread>

#include "kim/cancellation.h"

TEST_CASE("cancellation: callbacks run once on Cancel, not after their registration ends",
          "[cancellation]") {
  kim::Cancellation cancellation;
  int kept = 0, dropped = 0;
  auto registration = cancellation.OnCancel([&] { ++kept; });
  { auto gone = cancellation.OnCancel([&] { ++dropped; }); }
  CHECK_FALSE(cancellation.IsCancelled());
  std::thread other([&] { cancellation.Cancel(); });
  other.join();
  cancellation.Cancel();
  CHECK(cancellation.IsCancelled());
  CHECK(kept == 1);
  CHECK(dropped == 0);
}

TEST_CASE("cancellation: a callback registered after Cancel runs at once", "[cancellation]") {
  kim::Cancellation cancellation;
  cancellation.Cancel();
  int ran = 0;
  auto registration = cancellation.OnCancel([&] { ++ran; });
  CHECK(ran == 1);
}
