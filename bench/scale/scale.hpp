// keel-bench-scale: one real keel-master under many emulated agents and
// frameworks, driven through its real interfaces (the zmq transport module
// and the v1 scheduler HTTP API). Shared declarations of its parts.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::bench {

using Clock = std::chrono::steady_clock;

// An emulated agent's resources, and what one task takes of them.
inline constexpr double kAgentCpus = 16;
inline constexpr double kAgentMem = 16384;
inline constexpr double kTaskCpus = 1;
inline constexpr double kTaskMem = 1024;
// The tasks a whole agent's offer holds.
inline constexpr uint64_t kOfferTasks = static_cast<uint64_t>(kAgentCpus / kTaskCpus);

// Nanoseconds on the steady clock, for atomics shared between threads.
inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// What the agents (the transport's core thread) and the frameworks (their
// clients' threads) share.
struct Shared {
  explicit Shared(int agents) : freed_ns(static_cast<size_t>(agents)) {}
  // Per agent: when it first freed resources (sent TASK_FINISHED) since its
  // last offer; 0 when nothing was freed since.
  std::vector<std::atomic<int64_t>> freed_ns;
  // Offer latencies (ms) sampled while `measuring`.
  std::atomic<bool> measuring{false};
  std::mutex mu;
  std::vector<double> offer_latency_ms;  // under mu
  std::atomic<uint64_t> accepts{0}, tasks_launched{0}, offers{0};
  // TASK_FINISHED acknowledgements that reached their agent.
  std::atomic<uint64_t> finished_acked{0};
  // Frameworks launch no more while this many tasks are launched and not
  // finished-and-acknowledged: a steady state, not a growing backlog.
  uint64_t max_in_flight = 16000;
  // While set, frameworks take no offers (the master keeps them).
  std::atomic<bool> paused{false};
  // Launched and not yet finished-and-acknowledged; the acknowledgement is
  // read first, so that a launch counted since never makes it negative.
  uint64_t InFlight() const {
    const uint64_t acked = finished_acked;
    const uint64_t launched = tasks_launched;
    return launched > acked ? launched - acked : 0;
  }
  // Frameworks with offers and no room (paused, or at the bound) wait here
  // rather than poll: the agents wake one when acknowledgements made room
  // for an offer's tasks (WakeIfRoom), main all when it unpauses (WakeAll).
  // Polled every 0.5 ms, the ten frameworks' sleeps had been most of the
  // generator's context switches.
  void WaitForRoom(std::chrono::milliseconds at_most) {
    std::unique_lock<std::mutex> lock(room_mu);
    ++room_waiters;
    room.wait_for(lock, at_most, [&] { return !paused && InFlight() < max_in_flight; });
    --room_waiters;
  }
  void WakeIfRoom() {
    if (room_waiters == 0 || paused || InFlight() + kOfferTasks > max_in_flight) return;
    std::lock_guard<std::mutex> lock(room_mu);
    room.notify_one();
  }
  void WakeAll() {
    std::lock_guard<std::mutex> lock(room_mu);
    room.notify_all();
  }
  std::atomic<uint64_t> frameworks_failed{0};
  std::mutex room_mu;
  std::condition_variable room;
  std::atomic<int> room_waiters{0};
  std::string first_error;  // under mu

  void Fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = why;
  }
};

// /proc/<pid>: CPU seconds used (user + system) and resident bytes.
struct ProcSample {
  Clock::time_point when;
  double cpu_seconds = 0;
  double rss_bytes = 0;
};
Result<ProcSample> SampleProcess(pid_t pid);
// Cores used between two samples.
double CoresBetween(const ProcSample& a, const ProcSample& b);

// A keel-master started from `bin_dir`, stopped (SIGTERM) when destroyed.
class MasterProcess {
 public:
  static Result<std::unique_ptr<MasterProcess>> Start(const std::string& bin_dir,
                                                      const std::vector<std::string>& flags);
  ~MasterProcess();
  pid_t pid() const;
  std::string http() const;  // "127.0.0.1:PORT"
  uint16_t port() const;
  // The transport endpoint agents connect to (GET /master/transport).
  Result<std::string> TransportEndpoint() const;
  // One number of /metrics/snapshot.
  Result<double> Metric(const std::string& name) const;
  std::string LogTail() const;

 private:
  struct Impl;
  explicit MasterProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// N emulated agents multiplexed over a few connections of the real zmq
// transport module, one channel (keel.internal.ChannelMessage) each.
struct AgentCounters {
  uint64_t registered = 0, pongs = 0, run_tasks = 0, updates_sent = 0, acks = 0, finished_acked = 0,
           send_failures = 0, unexpected = 0;
};
class AgentFleet {
 public:
  AgentFleet(const std::string& module_dir, const std::string& endpoint, int agents,
             int connections, Shared& shared);
  ~AgentFleet();
  // Sends every agent's RegisterAgent; returns at once.
  void Register();
  // Waits until all registered; false after `timeout`.
  bool WaitRegistered(std::chrono::milliseconds timeout);
  AgentCounters Counters();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// M frameworks on the scheduler API (protobuf), each accepting every offer
// with as many tasks as fit, acknowledging every update.
class FrameworkFleet {
 public:
  FrameworkFleet(const std::string& master, int frameworks, Shared& shared);
  ~FrameworkFleet();
  // Subscribes all; false when not all did within `timeout`.
  bool Start(std::chrono::milliseconds timeout);
  // Stops accepting: offers from now on are left to the master.
  void StopLaunching();
  // Stops launching and closes the streams.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::bench
