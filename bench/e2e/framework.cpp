// The framework side of the run: a SchedulerClient that launches the tasks
// on every offer and timestamps each task's ACCEPT and TASK_RUNNING.
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/common/bench_util.hpp"
#include "bench/e2e/e2e.hpp"
#include "keel/scheduler/scheduler_client.hpp"
#include "keel/task_state.hpp"

namespace keel::bench {

namespace {

using Clock = std::chrono::steady_clock;
using keel::scheduler::Event;
using keel::scheduler::SchedulerClient;

// Waits longer than an allocation round plus an agent registration.
constexpr auto kFirstOfferTimeout = std::chrono::seconds(30);

std::string UserName() {
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return "root";
}

// Shared between the client's handler thread, the accepting thread and the
// caller; every field under `mu`.
struct State {
  std::mutex mu;
  std::condition_variable changed;
  std::deque<v1::Offer> offers;
  int next_task = 0, ended = 0;
  int in_flight = 0;  // accepted, not yet RUNNING
  std::vector<std::optional<Clock::time_point>> accepted, running;
  std::optional<Clock::time_point> first_accept, last_finished;
  std::string error;  // the first failure; ends the run
  bool stopping = false;
  E2eFigures figures;

  void Fail(std::string why) {
    if (error.empty()) error = std::move(why);
    changed.notify_all();
  }
};

v1::TaskInfo MakeTask(int index, const v1::AgentID& agent) {
  v1::TaskInfo task;
  task.set_name("e2e-" + std::to_string(index));
  task.mutable_task_id()->set_value(std::to_string(index));
  *task.mutable_agent_id() = agent;
  *task.add_resources() = Scalar("cpus", kTaskCpus);
  *task.add_resources() = Scalar("mem", kTaskMem);
  task.mutable_command()->set_shell(true);
  task.mutable_command()->set_value(kCommand);
  return task;
}

// Accepts away from the client's thread, so that updates are timestamped
// as they arrive rather than after a blocking ACCEPT call returns.
void AcceptLoop(SchedulerClient& client, State& st, int count) {
  std::unique_lock<std::mutex> lock(st.mu);
  for (;;) {
    // An offer is held while kMaxInFlight launches are outstanding.
    st.changed.wait(lock, [&] {
      return st.stopping ||
             (!st.offers.empty() && (st.in_flight < kMaxInFlight || st.next_task == count));
    });
    if (st.stopping) return;
    v1::Offer offer = std::move(st.offers.front());
    st.offers.pop_front();
    // At most kTasksPerAccept per ACCEPT and kMaxInFlight launches not yet
    // RUNNING, as a framework that launches work as it arrives would: the
    // latency then measures the path, not a queue of launches on the agent.
    const int n = std::min({count - st.next_task, Fit(offer, kTaskCpus, kTaskMem), kTasksPerAccept,
                            kMaxInFlight - st.in_flight});
    st.in_flight += n;
    std::vector<v1::TaskInfo> tasks;
    for (int i = 0; i < n; ++i) tasks.push_back(MakeTask(st.next_task + i, offer.agent_id()));
    const auto now = Clock::now();
    for (int i = 0; i < n; ++i) st.accepted[static_cast<size_t>(st.next_task + i)] = now;
    if (n > 0 && !st.first_accept) st.first_accept = now;
    st.next_task += n;
    if (n > 0) ++st.figures.accepts;
    lock.unlock();
    // Leftovers come back at the next allocation; once all are launched,
    // keep them away for the rest of the run.
    Status s = n > 0 ? client.Accept({offer.id()}, tasks, 0) : client.Decline({offer.id()}, 3600);
    lock.lock();
    if (!s.ok()) st.Fail((n > 0 ? "ACCEPT failed: " : "DECLINE failed: ") + s.message());
  }
}

void OnUpdate(State& st, int count, const v1::TaskStatus& status) {
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(st.mu);
  char* end = nullptr;
  const long index = std::strtol(status.task_id().value().c_str(), &end, 10);
  if (*end != '\0' || index < 0 || index >= count) return;
  const auto i = static_cast<size_t>(index);
  if (status.state() == v1::TASK_RUNNING && !st.running[i]) {
    st.running[i] = now;
    --st.in_flight;
    st.changed.notify_all();
  }
  if (!IsTerminal(status.state())) return;
  if (status.state() != v1::TASK_FINISHED) {
    st.Fail("task " + status.task_id().value() + " ended " + v1::TaskState_Name(status.state()) +
            " (" + v1::TaskStatus::Reason_Name(status.reason()) + "): " + status.message());
    return;
  }
  if (!st.running[i]) st.Fail("task " + status.task_id().value() + " finished, never RUNNING");
  st.last_finished = now;
  if (++st.ended == count) st.changed.notify_all();
}

}  // namespace

Result<E2eFigures> RunTasks(const std::string& master, int count) {
  State st;
  st.accepted.resize(static_cast<size_t>(count));
  st.running.resize(static_cast<size_t>(count));

  scheduler::ClientOptions options;
  options.master = master;
  options.framework.set_user(UserName());
  options.framework.set_name("keel-bench-e2e");
  options.auto_acknowledge = true;
  // The framework's own parsing is not what this measures.
  options.protobuf = true;
  options.reconnect = false;  // a broken stream would skew the figures
  SchedulerClient client(options);
  client.On(Event::OFFERS, [&](const Event& e) {
    std::lock_guard<std::mutex> lock(st.mu);
    st.figures.offers += e.offers().offers_size();
    for (const auto& o : e.offers().offers()) st.offers.push_back(o);
    st.changed.notify_all();
  });
  client.On(Event::UPDATE, [&](const Event& e) { OnUpdate(st, count, e.update().status()); });
  client.On(Event::ERROR, [&](const Event& e) {
    std::lock_guard<std::mutex> lock(st.mu);
    st.Fail("the master sent ERROR: " + e.error().message());
  });
  client.OnDisconnected([&](const std::string& why) {
    std::lock_guard<std::mutex> lock(st.mu);
    if (!st.stopping) st.Fail("the event stream broke: " + why);
  });

  client.Start();
  std::thread acceptor([&] { AcceptLoop(client, st, count); });
  {
    std::unique_lock<std::mutex> lock(st.mu);
    const auto start = Clock::now();
    // Generous: a healthy run of 2,000 tasks takes seconds.
    const auto deadline = start + kFirstOfferTimeout + std::chrono::milliseconds(50) * count;
    st.changed.wait_until(lock, start + kFirstOfferTimeout,
                          [&] { return !st.error.empty() || st.figures.offers > 0; });
    if (st.error.empty() && st.figures.offers == 0) {
      st.Fail("the cluster made no offer within 30 s (did the agent register?)");
    }
    st.changed.wait_until(lock, deadline, [&] { return !st.error.empty() || st.ended == count; });
    if (st.error.empty() && st.ended < count) {
      st.Fail(std::to_string(st.ended) + " of " + std::to_string(count) +
              " tasks finished before the deadline (" + std::to_string(st.next_task) +
              " launched)");
    }
    st.stopping = true;
    st.changed.notify_all();
  }
  acceptor.join();
  client.Stop();

  std::lock_guard<std::mutex> lock(st.mu);
  if (!st.error.empty()) return Status::Error(st.error);
  E2eFigures figures = st.figures;
  figures.seconds = std::chrono::duration<double>(*st.last_finished - *st.first_accept).count();
  for (size_t i = 0; i < st.accepted.size(); ++i) {
    figures.accept_to_running_ms.push_back(
        std::chrono::duration<double, std::milli>(*st.running[i] - *st.accepted[i]).count());
  }
  return figures;
}

}  // namespace keel::bench
