// Test and benchmark support: one end of a transport link, held as a daemon
// holds it. The real module library is loaded through the kernel's loader
// and runs with its own io_context thread as the daemon's core strand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "keel/transport.hpp"
#include "kernel/runtime/metrics.hpp"

namespace boost::asio {
class io_context;
}

namespace keel::test {

// Records what the transport hands the core, for another thread to wait on.
// `on_message`, when set, runs on the core strand for each message instead of
// recording it (benchmarks echo or count there).
class Recorder : public TransportHandler {
 public:
  void OnMessage(const PeerId& peer, TransportMessage message) override;
  void OnPeerConnected(const PeerId& peer) override;
  void OnPeerLost(const PeerId& peer) override;

  template <typename Pred>
  bool WaitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(); });
  }
  size_t message_count();

  std::function<void(const PeerId&, TransportMessage&)> on_message;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<PeerId, TransportMessage>> messages_;
  std::vector<PeerId> connected_;
  std::vector<PeerId> lost_;
};

class TransportSide {
 public:
  // Loads transport `module` from `module_dir` with `parameters_json`.
  TransportSide(const std::string& module, const std::string& module_dir,
                const std::string& parameters_json);
  ~TransportSide();

  // Runs `fn` on this side's core strand and waits for its result.
  template <typename Fn>
  auto OnCore(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    Post([&task] { task(); });
    return result.get();
  }
  void Post(std::function<void()> fn);

  Transport& transport() { return *transport_; }
  Recorder& recorder() { return recorder_; }

 private:
  struct Io;
  std::unique_ptr<Io> io_;
  runtime::Metrics metrics_;
  std::shared_ptr<Transport> transport_;
  Recorder recorder_;
  std::thread thread_;
};

// The transport modules built into `module_dir`.
std::vector<std::string> TransportModules(const std::string& module_dir);

}  // namespace keel::test
