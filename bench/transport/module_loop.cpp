// A transport module measured as a daemon uses it: the real library loaded
// by the kernel's loader, Send() and the handler on each side's core strand.
#include <atomic>
#include <cstring>
#include <future>
#include <stdexcept>
#include <thread>

#include "bench/transport/measure.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::bench {

namespace {

using Clock = std::chrono::steady_clock;
using test::TransportSide;

constexpr const char* kParams = R"({"send_queue_limit": 100000})";
constexpr const char* kType = "keel.bench.M";

struct Link {
  Link(const std::string& module, const std::string& dir)
      : server(module, dir, kParams), client(module, dir, kParams) {
    auto bound = server.OnCore([&] { return server.transport().Bind("tcp://127.0.0.1:0"); });
    if (!bound.ok()) throw std::runtime_error(bound.status().message());
    auto id = client.OnCore([&] { return client.transport().Connect(*bound); });
    if (!id.ok()) throw std::runtime_error(id.status().message());
    peer = *id;
    auto& c = client.recorder();
    auto& s = server.recorder();
    if (!c.WaitFor([&] { return !c.connected_.empty(); }) ||
        !s.WaitFor([&] { return !s.connected_.empty(); })) {
      throw std::runtime_error(module + ": the link did not come up");
    }
  }
  TransportSide server;
  TransportSide client;
  PeerId peer;
};

}  // namespace

double ModuleThroughput(const std::string& module, const std::string& dir, size_t count,
                        size_t payload) {
  // Declared before the link, so that they outlive its core threads.
  std::promise<Clock::time_point> last;
  size_t arrived = 0;  // server core only
  Link link(module, dir);
  link.server.recorder().on_message = [&](const PeerId&, TransportMessage&) {
    if (++arrived == count) last.set_value(Clock::now());
  };
  const std::string body(payload, 'x');
  auto start = Clock::now();
  size_t sent = 0;
  while (sent < count) {
    // Batches on the client's core; a full queue sends the loop to sleep
    // briefly so the I/O thread can drain it.
    size_t now_sent = link.client.OnCore([&, from = sent] {
      size_t n = from;
      for (; n < count && n < from + 10000; ++n) {
        if (!link.client.transport().Send(link.peer, {kType, 1, body}).ok()) break;
      }
      return n;
    });
    if (now_sent == sent) std::this_thread::sleep_for(std::chrono::microseconds(100));
    sent = now_sent;
  }
  auto end = last.get_future().get();
  return static_cast<double>(count) / std::chrono::duration<double>(end - start).count();
}

std::vector<double> ModuleRoundTrips(const std::string& module, const std::string& dir, double rate,
                                     std::chrono::milliseconds duration) {
  // Declared before the link, so that they outlive its core threads.
  const size_t total = static_cast<size_t>(rate * duration.count() / 1000.0);
  std::vector<Clock::time_point> sent(total);  // client core only
  std::vector<double> rtts;                    // client core only
  rtts.reserve(total);
  std::atomic<size_t> received{0};
  Link link(module, dir);
  link.server.recorder().on_message = [&](const PeerId& from, TransportMessage& m) {
    (void)link.server.transport().Send(from, std::move(m));
  };
  link.client.recorder().on_message = [&](const PeerId&, TransportMessage& m) {
    size_t n;
    std::memcpy(&n, m.payload.data(), sizeof(n));
    if (n < total) {
      rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent[n]).count());
    }
    received++;
  };
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const auto start = Clock::now();
  for (size_t n = 0; n < total; ++n) {
    std::this_thread::sleep_until(start +
                                  std::chrono::duration_cast<Clock::duration>(interval * n));
    link.client.Post([&, n] {
      std::string body(64, '\0');
      std::memcpy(body.data(), &n, sizeof(n));
      sent[n] = Clock::now();
      (void)link.client.transport().Send(link.peer, {kType, 1, std::move(body)});
    });
  }
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (received < total && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return link.client.OnCore([&] { return rtts; });
}

}  // namespace keel::bench
