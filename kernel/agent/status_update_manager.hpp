// Reliable status updates: one ordered stream per task, at most one update
// of a stream in flight, each sent again with backoff (retry_min doubling to
// retry_max) until the framework's acknowledgement comes back through the
// master. Updates wait while the agent is not registered.
//
// Every change to a stream is handed to `persist` before anything of it is
// sent, so that the agent can checkpoint the stream: an update is never sent
// before it would survive the agent's death.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "keel/v1/mesos.pb.h"
#include "kernel/runtime/timer.hpp"

namespace boost::asio {
class io_context;
}
namespace keel::internal {
class StatusUpdate;
}

namespace keel::agent {

class StatusUpdateManager {
 public:
  using Sender = std::function<void(const internal::StatusUpdate&)>;
  // The stream of (framework id, task id) changed; Pending() tells how.
  using Persist = std::function<void(const std::string&, const std::string&)>;

  StatusUpdateManager(boost::asio::io_context& io, Sender send, Persist persist,
                      std::chrono::nanoseconds retry_min, std::chrono::nanoseconds retry_max);
  ~StatusUpdateManager();

  // Queues `status` (its uuid set) for the framework.
  void Add(const std::string& framework_id, v1::TaskStatus status);
  // The update with `uuid` was acknowledged: the next one of its stream goes.
  // False when it is not the update in flight (late or duplicate ack).
  bool Acknowledge(const std::string& framework_id, const std::string& task_id,
                   const std::string& uuid);
  // Registered (again): send every stream's head now. Unregistered: hold.
  void SetConnected(bool connected);
  void ForgetFramework(const std::string& framework_id);
  // A stream checkpointed by an earlier run, taken back as it was (not
  // persisted again).
  void Restore(const std::string& framework_id, std::deque<v1::TaskStatus> pending);
  // The task's updates not yet acknowledged, oldest (in flight) first; null
  // when there are none.
  const std::deque<v1::TaskStatus>* Pending(const std::string& framework_id,
                                            const std::string& task_id) const;
  // True while updates of the task wait for acknowledgement.
  bool HasPending(const std::string& framework_id, const std::string& task_id) const {
    return streams_.count({framework_id, task_id}) > 0;
  }

  size_t streams() const { return streams_.size(); }
  uint64_t retries() const { return retries_; }

 private:
  using Key = std::pair<std::string, std::string>;  // framework id, task id
  struct Stream {
    std::deque<v1::TaskStatus> pending;  // front: in flight
    std::unique_ptr<runtime::Timer> retry;
    std::chrono::nanoseconds backoff{};
  };
  void SendHead(const Key& key, Stream& stream);

  boost::asio::io_context& io_;
  Sender send_;
  Persist persist_;
  std::chrono::nanoseconds retry_min_;
  std::chrono::nanoseconds retry_max_;
  bool connected_ = false;
  std::map<Key, Stream> streams_;
  uint64_t retries_ = 0;
};

}  // namespace keel::agent
