// AllocatorThread: the allocator module runs on a thread of its own, so that
// an allocation step over tens of thousands of agents never holds up the
// master's strand (registrations, status updates and scheduler calls go on
// being served while it runs; Mesos runs its allocator as its own actor for
// the same reason).
//
// The master posts every allocator call in order and the allocator sees them
// in that order, one at a time. An allocation step's result comes back
// through `to_master`, by which time the master may have lost the agent or
// the framework of an allocation: it checks, and gives such resources back.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "keel/allocator.hpp"

namespace keel::master {

class AllocatorThread {
 public:
  using Call = std::function<void(Allocator&)>;
  // Runs a callback on the master's strand.
  using ToMaster = std::function<void(std::function<void()>)>;

  AllocatorThread(std::shared_ptr<Allocator> allocator, ToMaster to_master);
  // Waits for the call running now; the calls still queued are dropped (the
  // master is going away, and the allocator's state with it).
  ~AllocatorThread();
  AllocatorThread(const AllocatorThread&) = delete;
  AllocatorThread& operator=(const AllocatorThread&) = delete;

  // The calls of keel/allocator.hpp, queued with copies of their arguments.
  // They run in order, and no later than the next Allocate(): only that
  // (or a long queue) wakes the thread, so that the master's stream of
  // recovered resources costs no wake-up (a system call and a context
  // switch) each.
  void AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                    const std::map<AgentId, Resources>& used, bool active);
  void UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec);
  void RemoveFramework(const FrameworkId& id);
  void ActivateFramework(const FrameworkId& id);
  void DeactivateFramework(const FrameworkId& id);
  void AddAgent(const AgentId& id, const AgentSpec& spec);
  void RemoveAgent(const AgentId& id);
  void DeactivateAgent(const AgentId& id);
  void RecoverResources(const FrameworkId& framework, const AgentId& agent,
                        const Resources& resources,
                        std::optional<std::chrono::nanoseconds> refuse_for);
  void Suppress(const FrameworkId& framework, const std::set<std::string>& roles);
  void Revive(const FrameworkId& framework, const std::set<std::string>& roles);
  void UpdateWeights(const std::map<std::string, double>& weights);
  void UpdateQuota(const std::string& role, const Quota& quota);

  // One allocation step after every call queued before it; `done` gets its
  // result on the master's strand.
  void Allocate(std::function<void(std::vector<Allocation>)> done);

 private:
  // Queues `call`; wakes the thread when `now` or when the queue is long.
  void Post(Call call, bool now = false);

  void Run();

  std::shared_ptr<Allocator> allocator_;
  ToMaster to_master_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace keel::master
