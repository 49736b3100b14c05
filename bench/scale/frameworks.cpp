// The emulated frameworks: real clients of POST /api/v1/scheduler
// (keel::scheduler::SchedulerClient, protobuf content type), each launching
// as many tasks as every offer holds the moment it arrives, with every status
// update acknowledged (the client pipelines acknowledgements on a
// connection of their own).
#include <cmath>
#include <cstdlib>
#include <thread>

#include "bench/scale/scale.hpp"
#include "keel/scheduler/scheduler_client.hpp"
#include "keel/task_state.hpp"

namespace keel::bench {

namespace {

using scheduler::Event;
using scheduler::SchedulerClient;

v1::Resource Scalar(const char* name, double value) {
  v1::Resource r;
  r.set_name(name);
  r.set_type(v1::Value::SCALAR);
  r.mutable_scalar()->set_value(value);
  return r;
}

int64_t Millis(double value) { return std::llround(value * 1000.0); }

int Fit(const v1::Offer& offer) {
  int64_t cpus = 0, mem = 0;
  for (const auto& r : offer.resources()) {
    if (r.name() == "cpus") cpus += Millis(r.scalar().value());
    if (r.name() == "mem") mem += Millis(r.scalar().value());
  }
  return static_cast<int>(std::min(cpus / Millis(kTaskCpus), mem / Millis(kTaskMem)));
}

// The agent's index, from the hostname the fleet gave it ("scale-<i>").
int AgentIndex(const v1::Offer& offer, size_t agents) {
  const std::string& host = offer.hostname();
  if (host.rfind("scale-", 0) != 0) return -1;
  const long i = std::strtol(host.c_str() + 6, nullptr, 10);
  return i >= 0 && static_cast<size_t>(i) < agents ? static_cast<int>(i) : -1;
}

struct Framework {
  std::unique_ptr<SchedulerClient> client;
  uint64_t next_task = 0;  // the client's thread
};

}  // namespace

struct FrameworkFleet::Impl {
  Shared& shared;
  std::vector<std::unique_ptr<Framework>> frameworks;
  std::atomic<bool> stopping{false};
  std::atomic<int> subscribed{0};

  explicit Impl(Shared& s) : shared(s) {}
  void OnOffers(Framework& fw, const Event& e);
};

void FrameworkFleet::Impl::OnOffers(Framework& fw, const Event& e) {
  const int64_t now = NowNs();
  for (const v1::Offer& offer : e.offers().offers()) {
    shared.offers++;
    if (stopping) continue;  // left outstanding: the run is over
    const int index = AgentIndex(offer, shared.freed_ns.size());
    if (index >= 0) {
      const int64_t freed = shared.freed_ns[static_cast<size_t>(index)].exchange(0);
      if (freed != 0 && shared.measuring) {
        std::lock_guard<std::mutex> lock(shared.mu);
        shared.offer_latency_ms.push_back(static_cast<double>(now - freed) / 1e6);
      }
    }
    const int n = Fit(offer);
    std::vector<v1::TaskInfo> tasks;
    for (int i = 0; i < n; ++i) {
      v1::TaskInfo task;
      task.set_name("scale");
      task.mutable_task_id()->set_value("t" + std::to_string(fw.next_task++));
      *task.mutable_agent_id() = offer.agent_id();
      *task.add_resources() = Scalar("cpus", kTaskCpus);
      *task.add_resources() = Scalar("mem", kTaskMem);
      task.mutable_command()->set_value("true");
      tasks.push_back(std::move(task));
    }
    Status s =
        n > 0 ? fw.client->Accept({offer.id()}, tasks, 0) : fw.client->Decline({offer.id()}, 0);
    if (!s.ok()) {
      shared.Fail("ACCEPT failed: " + s.message());
      continue;
    }
    shared.accepts++;
    shared.tasks_launched += static_cast<uint64_t>(n);
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

void FrameworkFleet::StopLaunching() { impl_->stopping = true; }

void FrameworkFleet::Stop() {
  impl_->stopping = true;
  for (auto& fw : impl_->frameworks) fw->client->Stop();
}

}  // namespace keel::bench
