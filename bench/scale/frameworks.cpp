// The emulated frameworks: real clients of POST /api/v1/scheduler
// (keel::scheduler::SchedulerClient, protobuf content type), each launching
// as many tasks as every offer holds the moment it arrives, with every status
// update acknowledged (the client pipelines acknowledgements on a
// connection of their own).
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <thread>

#include "bench/common/bench_util.hpp"
#include "bench/scale/scale.hpp"
#include "keel/scheduler/scheduler_client.hpp"
#include "keel/task_state.hpp"

namespace keel::bench {

namespace {

using scheduler::Event;
using scheduler::SchedulerClient;

// The agent's index, from the hostname the fleet gave it ("scale-<i>").
int AgentIndex(const v1::Offer& offer, size_t agents) {
  const std::string& host = offer.hostname();
  if (host.rfind("scale-", 0) != 0) return -1;
  const long i = std::strtol(host.c_str() + 6, nullptr, 10);
  return i >= 0 && static_cast<size_t>(i) < agents ? static_cast<int>(i) : -1;
}

// One framework: its client (whose thread runs the handlers) and a thread
// of its own that accepts, so that waiting for room (backpressure) never
// stops the event stream, whose UPDATEs are what make room.
struct Framework {
  std::unique_ptr<SchedulerClient> client;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<v1::Offer> pending;  // under mu
  bool stopping = false;          // under mu
  uint64_t next_task = 0;         // the accepting thread
  std::thread acceptor;
};

}  // namespace

struct FrameworkFleet::Impl {
  Shared& shared;
  std::vector<std::unique_ptr<Framework>> frameworks;
  std::atomic<bool> stopping{false};
  std::atomic<int> subscribed{0};

  explicit Impl(Shared& s) : shared(s) {}
  void OnOffers(Framework& fw, const Event& e);
  void AcceptLoop(Framework& fw);
  // The ACCEPT (or DECLINE, for an offer no task fits) of `offer`.
  scheduler::Call Answer(Framework& fw, const v1::Offer& offer);
  uint64_t InFlight() const { return shared.InFlight(); }
};

void FrameworkFleet::Impl::OnOffers(Framework& fw, const Event& e) {
  const int64_t now = NowNs();
  for (const v1::Offer& offer : e.offers().offers()) {
    shared.offers++;
    const int index = AgentIndex(offer, shared.freed_ns.size());
    if (index < 0) continue;
    const int64_t freed = shared.freed_ns[static_cast<size_t>(index)].exchange(0);
    if (freed != 0 && shared.measuring) {
      std::lock_guard<std::mutex> lock(shared.mu);
      shared.offer_latency_ms.push_back(static_cast<double>(now - freed) / 1e6);
    }
  }
  std::lock_guard<std::mutex> lock(fw.mu);
  for (const v1::Offer& offer : e.offers().offers()) fw.pending.push_back(offer);
  fw.changed.notify_one();
}

scheduler::Call FrameworkFleet::Impl::Answer(Framework& fw, const v1::Offer& offer) {
  scheduler::Call call;
  const int n = Fit(offer, kTaskCpus, kTaskMem);
  v1::Filters* filters;
  if (n == 0) {
    call.set_type(scheduler::Call::DECLINE);
    *call.mutable_decline()->add_offer_ids() = offer.id();
    filters = call.mutable_decline()->mutable_filters();
  } else {
    call.set_type(scheduler::Call::ACCEPT);
    auto* accept = call.mutable_accept();
    *accept->add_offer_ids() = offer.id();
    filters = accept->mutable_filters();
    auto* op = accept->add_operations();
    op->set_type(v1::Offer::Operation::LAUNCH);
    for (int i = 0; i < n; ++i) {
      v1::TaskInfo* task = op->mutable_launch()->add_task_infos();
      task->set_name("scale");
      task->mutable_task_id()->set_value("t" + std::to_string(fw.next_task++));
      *task->mutable_agent_id() = offer.agent_id();
      *task->add_resources() = Scalar("cpus", kTaskCpus);
      *task->add_resources() = Scalar("mem", kTaskMem);
      task->mutable_command()->set_value("true");
    }
  }
  filters->set_refuse_seconds(0);
  return call;
}

void FrameworkFleet::Impl::AcceptLoop(Framework& fw) {
  for (;;) {
    std::vector<v1::Offer> offers;
    {
      std::unique_lock<std::mutex> lock(fw.mu);
      fw.changed.wait(lock, [&] { return fw.stopping || !fw.pending.empty(); });
      if (fw.stopping) return;  // what is pending stays with the master
      if (shared.paused || InFlight() >= shared.max_in_flight) {
        // Room is made by acknowledgements on other threads, which wake a
        // waiting framework; the bound on the wait is for stopping.
        lock.unlock();
        shared.WaitForRoom(std::chrono::milliseconds(20));
        continue;
      }
      // Offers while there is room, each counted launched as it is taken,
      // so the bound holds across frameworks (they may pass it by one
      // offer each).
      while (!fw.pending.empty() && InFlight() < shared.max_in_flight) {
        shared.tasks_launched +=
            static_cast<uint64_t>(Fit(fw.pending.front(), kTaskCpus, kTaskMem));
        offers.push_back(std::move(fw.pending.front()));
        fw.pending.pop_front();
      }
    }
    std::vector<scheduler::Call> calls;
    for (const v1::Offer& offer : offers) calls.push_back(Answer(fw, offer));
    // One round trip for them all, as a framework that launches as fast as
    // offers come would pipeline its calls.
    Status s = fw.client->SendAll(calls);
    shared.accepts += calls.size();
    // Once stopping, the streams close under calls still on their way.
    if (!s.ok() && !stopping) shared.Fail("ACCEPT failed: " + s.message());
  }
}

FrameworkFleet::FrameworkFleet(const std::string& master, int frameworks, Shared& shared)
    : impl_(std::make_unique<Impl>(shared)) {
  for (int i = 0; i < frameworks; ++i) {
    auto fw = std::make_unique<Framework>();
    scheduler::ClientOptions options;
    options.master = master;
    options.framework.set_user("root");
    options.framework.set_name("keel-bench-scale-" + std::to_string(i));
    options.auto_acknowledge = true;
    options.protobuf = true;
    options.reconnect = false;  // a broken stream would skew the figures
    fw->client = std::make_unique<SchedulerClient>(options);
    Impl& f = *impl_;
    Framework& w = *fw;
    w.client->On(Event::OFFERS, [&f, &w](const Event& e) { f.OnOffers(w, e); });
    w.client->On(Event::UPDATE, [&f](const Event& e) {
      const auto& status = e.update().status();
      if (IsTerminal(status.state()) && status.state() != v1::TASK_FINISHED) {
        f.shared.Fail("task " + status.task_id().value() + " ended " +
                      v1::TaskState_Name(status.state()) + ": " + status.message());
      }
    });
    w.client->On(Event::ERROR, [&f](const Event& e) {
      f.shared.Fail("the master sent ERROR: " + e.error().message());
    });
    w.client->OnConnected([&f] { f.subscribed++; });
    w.client->OnDisconnected([&f](const std::string& why) {
      if (!f.stopping) f.shared.Fail("an event stream broke: " + why);
    });
    w.acceptor = std::thread([&f, &w] { f.AcceptLoop(w); });
    impl_->frameworks.push_back(std::move(fw));
  }
}

FrameworkFleet::~FrameworkFleet() { Stop(); }

bool FrameworkFleet::Start(std::chrono::milliseconds timeout) {
  for (auto& fw : impl_->frameworks) fw->client->Start();
  const auto deadline = Clock::now() + timeout;
  while (impl_->subscribed < static_cast<int>(impl_->frameworks.size())) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void FrameworkFleet::StopLaunching() {
  impl_->stopping = true;
  impl_->shared.WakeAll();
  for (auto& fw : impl_->frameworks) {
    {
      std::lock_guard<std::mutex> lock(fw->mu);
      fw->stopping = true;
    }
    fw->changed.notify_all();
    if (fw->acceptor.joinable()) fw->acceptor.join();
  }
}

void FrameworkFleet::Stop() {
  StopLaunching();
  for (auto& fw : impl_->frameworks) fw->client->Stop();
}

}  // namespace keel::bench
