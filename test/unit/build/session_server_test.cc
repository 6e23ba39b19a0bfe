// The session's gRPC server (lib/build/session_server.h) against a real gRPC client: gRPC C++
// connected over a socketpair whose other end the server runs on. Unary and streaming calls,
// metadata, status codes and messages, flow control with large messages, cancellation, Stop.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <string>
#include <chrono>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "fsutil/types/fsutil.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "lib/build/session_server.h"
#include "moby/filesync/v1/filesync.grpc.pb.h"
#include "test/support/session_harness.h"

using fsutil::types::Packet;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using kim::build::SessionCall;
using kim::build::SessionMethod;
using kim::build::SessionServer;

namespace {

using Harness = kim::test::SessionHarness;

SessionMethod HealthCheck(std::function<absl::Status(SessionCall&, HealthCheckResponse*)> serve) {
  return {"/grpc.health.v1.Health/Check", [serve](SessionCall& call) {
            HealthCheckRequest request;
            if (!call.Read(&request)) return absl::InvalidArgumentError("no request");
            HealthCheckResponse response;
            absl::Status status = serve(call, &response);
            if (status.ok() && !call.Write(response)) return absl::CancelledError("gone");
            return status;
          }};
}

}  // namespace

TEST_CASE("session server answers a unary call and sees its metadata", "[session_server]") {
  Harness harness({HealthCheck([](SessionCall& call, HealthCheckResponse* response) {
    if (call.method() != "/grpc.health.v1.Health/Check") return absl::InternalError(call.method());
    if (call.Metadata("x-kim") != std::vector<std::string>{"a", "b"}) {
      return absl::InvalidArgumentError("metadata x-kim not as sent");
    }
    response->set_status(HealthCheckResponse::SERVING);
    return absl::OkStatus();
  })});
  auto stub = Health::NewStub(harness.channel);
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("x-kim", "a");
    context.AddMetadata("x-kim", "b");
    HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(response.status() == HealthCheckResponse::SERVING);
  }
}

TEST_CASE("session server sends a handler's error code and message", "[session_server]") {
  const std::string message = "secret \"x\" not found: 100% gone, caf\xc3\xa9\nnext line";
  Harness harness({HealthCheck([&](SessionCall&, HealthCheckResponse*) {
    return absl::NotFoundError(message);
  })});
  grpc::ClientContext context;
  HealthCheckResponse response;
  grpc::Status status = Health::NewStub(harness.channel)->Check(&context, HealthCheckRequest(), &response);
  CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(status.error_message() == message);
}

TEST_CASE("session server answers an unknown method with UNIMPLEMENTED", "[session_server]") {
  Harness harness({});
  grpc::ClientContext context;
  HealthCheckResponse response;
  grpc::Status status = Health::NewStub(harness.channel)->Check(&context, HealthCheckRequest(), &response);
  CHECK(status.error_code() == grpc::StatusCode::UNIMPLEMENTED);
  CHECK(status.error_message().find("/grpc.health.v1.Health/Check") != std::string::npos);
}

TEST_CASE("session server streams both ways with flow control", "[session_server]") {
  // The handler echoes every packet back with id + 1000; 48 messages of 1 MiB each way are more
  // than every window, so both sides must reopen them as they read.
  Harness harness({{"/moby.filesync.v1.FileSync/DiffCopy", [](SessionCall& call) {
                      Packet packet;
                      int count = 0;
                      while (call.Read(&packet)) {
                        packet.set_id(packet.id() + 1000);
                        if (!call.Write(packet)) return absl::CancelledError("gone");
                        ++count;
                      }
                      return count == 48 ? absl::OkStatus()
                                         : absl::DataLossError(absl::StrCat("read ", count));
                    }}});
  auto stub = moby::filesync::v1::FileSync::NewStub(harness.channel);
  grpc::ClientContext context;
  auto stream = stub->DiffCopy(&context);
  std::thread writer([&] {
    Packet packet;
    packet.set_type(Packet::PACKET_DATA);
    for (uint32_t i = 0; i < 48; ++i) {
      packet.set_id(i);
      packet.set_data(std::string(1 << 20, static_cast<char>('a' + i % 26)));
      if (!stream->Write(packet)) break;
    }
    stream->WritesDone();
  });
  Packet reply;
  uint32_t received = 0;
  bool contents_ok = true;
  while (stream->Read(&reply)) {
    contents_ok = contents_ok && reply.id() == received + 1000 && reply.data().size() == (1u << 20) &&
                  reply.data().front() == static_cast<char>('a' + received % 26);
    ++received;
  }
  writer.join();
  grpc::Status status = stream->Finish();
  INFO(status.error_message());
  CHECK(status.ok());
  CHECK(received == 48);
  CHECK(contents_ok);
}

TEST_CASE("session server tells a handler its call was cancelled", "[session_server]") {
  std::atomic<bool> saw_cancel{false};
  Harness harness({{"/grpc.health.v1.Health/Watch", [&](SessionCall& call) {
                      HealthCheckRequest request;
                      if (!call.Read(&request)) return absl::InvalidArgumentError("no request");
                      HealthCheckResponse response;
                      response.set_status(HealthCheckResponse::SERVING);
                      call.Write(response);
                      saw_cancel = call.WaitCancelled(std::chrono::seconds(10));
                      return absl::OkStatus();
                    }}});
  grpc::ClientContext context;
  auto reader = Health::NewStub(harness.channel)->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  REQUIRE(reader->Read(&response));
  CHECK(response.status() == HealthCheckResponse::SERVING);
  const auto start = std::chrono::steady_clock::now();
  context.TryCancel();
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 200 && !saw_cancel; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(saw_cancel);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("session server Stop ends the calls still running", "[session_server]") {
  std::atomic<bool> handler_ended{false};
  Harness harness({{"/grpc.health.v1.Health/Watch", [&](SessionCall& call) {
                      HealthCheckRequest request;
                      call.Read(&request);
                      HealthCheckResponse response;
                      call.Write(response);
                      call.WaitCancelled(std::chrono::seconds(30));
                      handler_ended = true;
                      return absl::OkStatus();
                    }}});
  grpc::ClientContext context;
  auto reader = Health::NewStub(harness.channel)->Watch(&context, HealthCheckRequest());
  HealthCheckResponse response;
  REQUIRE(reader->Read(&response));
  const auto start = std::chrono::steady_clock::now();
  harness.server->Stop(std::chrono::milliseconds(300));
  CHECK(handler_ended);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK_FALSE(reader->Read(&response));
}

namespace {

// A field of /proc/self/status ("Threads", "VmSize" in kB).
long ProcessStatus(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace

TEST_CASE("session server reaps the threads of finished calls", "[session_server]") {
  // buildkitd checks the session's health every few seconds for as long as a build runs: the
  // handler threads of finished calls must not pile up.
  Harness harness({HealthCheck([](SessionCall&, HealthCheckResponse* response) {
    response->set_status(HealthCheckResponse::SERVING);
    return absl::OkStatus();
  })});
  auto stub = Health::NewStub(harness.channel);
  auto check = [&] {
    grpc::ClientContext context;
    HealthCheckResponse response;
    return stub->Check(&context, HealthCheckRequest(), &response).ok();
  };
  REQUIRE(check());
  const long threads = ProcessStatus("Threads");
  const long mapped_kb = ProcessStatus("VmSize");
  REQUIRE(threads > 0);
  int ok = 0;
  for (int i = 0; i < 300; ++i) ok += check() ? 1 : 0;
  CHECK(ok == 300);
  CHECK(ProcessStatus("Threads") <= threads + 3);
  // A thread never joined keeps its stack mapped (8 MiB each): 300 of them would be 2.4 GB.
  CHECK(ProcessStatus("VmSize") - mapped_kb < 200 * 1024);
}
