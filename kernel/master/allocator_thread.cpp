#include "kernel/master/allocator_thread.hpp"

#include <signal.h>

namespace keel::master {

AllocatorThread::AllocatorThread(std::shared_ptr<Allocator> allocator, ToMaster to_master)
    : allocator_(std::move(allocator)), to_master_(std::move(to_master)) {
  // Started with every signal blocked, so that the daemon's signals go to
  // the threads that wait for them.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  thread_ = std::thread(&AllocatorThread::Run, this);
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

AllocatorThread::~AllocatorThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AllocatorThread::Post(Call call, bool now) {
  // Enough to bound the queue's memory, few enough to cost nothing.
  constexpr size_t kWakeAt = 1024;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(call));
    now = now || queue_.size() >= kWakeAt;
  }
  if (now) wake_.notify_one();
}

void AllocatorThread::AddFramework(const FrameworkId& id, const FrameworkSpec& spec,
                                   const std::map<AgentId, Resources>& used, bool active) {
  Post([=](Allocator& a) { a.AddFramework(id, spec, used, active); });
}

void AllocatorThread::UpdateFramework(const FrameworkId& id, const FrameworkSpec& spec) {
  Post([=](Allocator& a) { a.UpdateFramework(id, spec); });
}

void AllocatorThread::RemoveFramework(const FrameworkId& id) {
  Post([=](Allocator& a) { a.RemoveFramework(id); });
}

void AllocatorThread::ActivateFramework(const FrameworkId& id) {
  Post([=](Allocator& a) { a.ActivateFramework(id); });
}

void AllocatorThread::DeactivateFramework(const FrameworkId& id) {
  Post([=](Allocator& a) { a.DeactivateFramework(id); });
}

void AllocatorThread::AddAgent(const AgentId& id, const AgentSpec& spec) {
  Post([=](Allocator& a) { a.AddAgent(id, spec); });
}

void AllocatorThread::RemoveAgent(const AgentId& id) {
  Post([=](Allocator& a) { a.RemoveAgent(id); });
}

void AllocatorThread::DeactivateAgent(const AgentId& id) {
  Post([=](Allocator& a) { a.DeactivateAgent(id); });
}

void AllocatorThread::RecoverResources(const FrameworkId& framework, const AgentId& agent,
                                       const Resources& resources,
                                       std::optional<std::chrono::nanoseconds> refuse_for) {
  Post([=](Allocator& a) { a.RecoverResources(framework, agent, resources, refuse_for); });
}

void AllocatorThread::Suppress(const FrameworkId& framework, const std::set<std::string>& roles) {
  Post([=](Allocator& a) { a.Suppress(framework, roles); });
}

void AllocatorThread::Revive(const FrameworkId& framework, const std::set<std::string>& roles) {
  Post([=](Allocator& a) { a.Revive(framework, roles); });
}

void AllocatorThread::UpdateWeights(const std::map<std::string, double>& weights) {
  Post([=](Allocator& a) { a.UpdateWeights(weights); });
}

void AllocatorThread::UpdateQuota(const std::string& role, const Quota& quota) {
  Post([=](Allocator& a) { a.UpdateQuota(role, quota); });
}

void AllocatorThread::Allocate(std::function<void(std::vector<Allocation>)> done) {
  Post(
      [this, done = std::move(done)](Allocator& allocator) mutable {
        auto allocations = std::make_shared<std::vector<Allocation>>(allocator.Allocate());
        to_master_([done = std::move(done), allocations] { done(std::move(*allocations)); });
      },
      true);
}

void AllocatorThread::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    // Takes the whole batch at once: one lock round per batch, not per call.
    std::deque<Call> batch;
    batch.swap(queue_);
    lock.unlock();
    for (auto& call : batch) call(*allocator_);
    lock.lock();
  }
}

}  // namespace keel::master
