// The baseline: libzmq DEALER to ROUTER with no Keel code at all, each socket
// on its own thread, as close to what libzmq alone can do as a loop gets.
#include <zmq.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bench/transport/measure.hpp"

namespace keel::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct Pair {
  Pair() {
    router = zmq_socket(context, ZMQ_ROUTER);
    dealer = zmq_socket(context, ZMQ_DEALER);
    if (zmq_bind(router, "tcp://127.0.0.1:*") != 0) throw std::runtime_error("bare: bind failed");
    char endpoint[256];
    size_t size = sizeof(endpoint);
    zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &size);
    zmq_connect(dealer, endpoint);
    // One message through before the clock starts: the connection is up.
    zmq_send(dealer, "up", 2, 0);
    char buf[64];
    zmq_recv(router, buf, sizeof(buf), 0);
    zmq_recv(router, buf, sizeof(buf), 0);
  }
  ~Pair() {
    int zero = 0;
    zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_close(router);
    zmq_close(dealer);
    zmq_ctx_term(context);
  }
  void* context = zmq_ctx_new();
  void* router = nullptr;
  void* dealer = nullptr;
};

}  // namespace

double BareThroughput(size_t count, size_t payload) {
  Pair pair;
  std::string body(payload, 'x');
  auto start = Clock::now();
  std::thread receiver([&] {
    zmq_msg_t part;
    zmq_msg_init(&part);
    for (size_t i = 0; i < count; ++i) {
      zmq_msg_recv(&part, pair.router, 0);  // routing id
      zmq_msg_recv(&part, pair.router, 0);  // body
    }
    zmq_msg_close(&part);
  });
  for (size_t i = 0; i < count; ++i) zmq_send(pair.dealer, body.data(), body.size(), 0);
  receiver.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(count) / seconds;
}

std::vector<double> BareRoundTrips(double rate, std::chrono::milliseconds duration) {
  Pair pair;
  std::atomic<bool> done{false};
  std::thread echo([&] {
    zmq_pollitem_t item{pair.router, 0, ZMQ_POLLIN, 0};
    char id[256], body[256];
    while (!done) {
      if (zmq_poll(&item, 1, 10) <= 0) continue;
      int id_size = zmq_recv(pair.router, id, sizeof(id), 0);
      int body_size = zmq_recv(pair.router, body, sizeof(body), 0);
      zmq_send(pair.router, id, id_size, ZMQ_SNDMORE);
      zmq_send(pair.router, body, body_size, 0);
    }
  });
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  const size_t total = static_cast<size_t>(rate * duration.count() / 1000.0);
  std::vector<Clock::time_point> sent(total);
  std::vector<double> rtts;
  rtts.reserve(total);
  const auto start = Clock::now();
  size_t next = 0;
  zmq_pollitem_t item{pair.dealer, 0, ZMQ_POLLIN, 0};
  while (rtts.size() < total && Clock::now() < start + duration + std::chrono::seconds(5)) {
    auto now = Clock::now();
    if (next < total &&
        now >= start + std::chrono::duration_cast<Clock::duration>(interval * next)) {
      char body[64] = {};
      std::memcpy(body, &next, sizeof(next));
      sent[next] = now;
      zmq_send(pair.dealer, body, sizeof(body), 0);
      ++next;
    }
    if (zmq_poll(&item, 1, 0) > 0) {
      char body[64];
      if (zmq_recv(pair.dealer, body, sizeof(body), 0) >= 8) {
        size_t n;
        std::memcpy(&n, body, sizeof(n));
        if (n < total) {
          rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent[n]).count());
        }
      }
    }
  }
  done = true;
  echo.join();
  return rtts;
}

}  // namespace keel::bench
