// Test support: a framework built on the SDK's SchedulerClient that records
// every event, so tests can wait for what a real scheduler would see.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keel/scheduler/scheduler_client.hpp"

namespace keel::test {

using scheduler::Event;

struct FrameworkOptions {
  std::string name = "keel-test-framework";
  double failover_timeout = 0;
  bool partition_aware = false;
  bool auto_acknowledge = true;
  bool protobuf = false;     // calls and events as protobuf instead of JSON
  std::string framework_id;  // to re-subscribe as an existing framework
  // HTTP Basic credentials; FrameworkInfo.principal is `principal` unless
  // `framework_principal` says otherwise.
  std::string principal;
  std::string secret;
  std::string framework_principal;
  bool send_framework_principal = true;  // false: FrameworkInfo has none
};

class TestFramework {
 public:
  TestFramework(const std::string& master, FrameworkOptions options = {});
  ~TestFramework();

  scheduler::SchedulerClient& client() { return *client_; }
  // Stops the client: the subscription closes as if the scheduler died.
  void Disconnect();

  // Waits until `pred` holds over the events so far.
  bool WaitFor(const std::function<bool(const std::vector<Event>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<Event> events() const;

  // The next offer not yet used by TakeOffer(), waiting for it.
  std::optional<v1::Offer> TakeOffer(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Statuses of `task_id`, in order of arrival.
  std::vector<v1::TaskStatus> Statuses(const std::string& task_id) const;
  // Waits for a status of `task_id` in `state`.
  std::optional<v1::TaskStatus> WaitForState(
      const std::string& task_id, v1::TaskState state,
      std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // A shell-command task for `offer`'s agent.
  static v1::TaskInfo CommandTask(const std::string& id, const v1::Offer& offer,
                                  const std::string& command, double cpus = 0.1, double mem = 32);
  // Launches one task on `offer`; the status of the ACCEPT call.
  Status Launch(const v1::Offer& offer, const v1::TaskInfo& task);

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Event> events_;
  size_t offers_taken_ = 0;
  std::unique_ptr<scheduler::SchedulerClient> client_;
};

}  // namespace keel::test
