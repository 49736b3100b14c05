#include "run_tasks_framework.hpp"

#include <cerrno>
#include <ctime>
#include <iostream>
#include <vector>

#include "keel/task_state.hpp"

namespace keel::examples {

namespace {

using v1::scheduler::Event;

constexpr auto kUnreachableLimit = std::chrono::seconds(30);
// Unused resources come back within a second, for the tasks that did not fit yet.
constexpr double kRefuseSeconds = 1.0;
// Offered amounts minus task sizes drift below the exact size in binary
// floating point (4 - 40 * 0.1 < 0).
constexpr double kEpsilon = 1e-9;
// The custom executor (--executor): its id and what it takes on each agent.
constexpr const char* kExecutorId = "run-tasks-executor";
constexpr double kExecutorCpus = 0.1;
constexpr double kExecutorMem = 32;

// The offer's total of scalar resource `name`, whatever its role.
double ScalarSum(const v1::Offer& offer, const std::string& name) {
  double sum = 0;
  for (const auto& r : offer.resources()) {
    if (r.name() == name && r.type() == v1::Value::SCALAR) sum += r.scalar().value();
  }
  return sum;
}

void AddScalar(v1::TaskInfo* task, const std::string& name, double value) {
  v1::Resource* r = task->add_resources();
  r->set_name(name);
  r->set_type(v1::Value::SCALAR);
  r->mutable_scalar()->set_value(value);
}

scheduler::ClientOptions ClientOptionsFor(const RunTasksOptions& options) {
  scheduler::ClientOptions client;
  client.master = options.master;
  client.framework.set_user(options.user);
  client.framework.set_name(options.name);
  // The framework ends with this process; the master need not wait for it.
  client.framework.set_failover_timeout(0);
  client.auto_acknowledge = true;
  return client;
}

}  // namespace

RunTasksFramework::RunTasksFramework(RunTasksOptions options)
    : options_(std::move(options)), client_(ClientOptionsFor(options_)) {
  client_.On(Event::OFFERS, [this](const Event& e) { OnOffers(e); });
  client_.On(Event::UPDATE, [this](const Event& e) { OnUpdate(e); });
  client_.On(Event::MESSAGE, [this](const Event& e) { OnMessage(e); });
  client_.On(Event::ERROR, [this](const Event& e) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = "the master sent ERROR: " + e.error().message();
  });
  client_.OnConnected([this] {
    std::lock_guard<std::mutex> lock(mu_);
    connected_ = true;
  });
  client_.OnDisconnected([this](const std::string& why) {
    std::lock_guard<std::mutex> lock(mu_);
    // After ERROR or our TEARDOWN the end of the stream is no news.
    if (connected_ && !tearing_down_ && error_.empty()) {
      std::cerr << "keel-example-framework: lost the master (" << why << "); subscribing again\n";
      unreachable_since_ = std::chrono::steady_clock::now();
    }
    connected_ = false;
    last_disconnect_ = why;
  });
}

std::string RunTasksFramework::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

Outcome RunTasksFramework::Run(const sigset_t& interrupts) {
  unreachable_since_ = std::chrono::steady_clock::now();
  client_.Start();
  const Outcome outcome = Wait(interrupts);
  if (outcome == Outcome::kAllFinished || outcome == Outcome::kSomeFailed) {
    std::lock_guard<std::mutex> lock(mu_);
    std::cout << finished_ << " finished, " << failed_ << " failed" << std::endl;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    tearing_down_ = true;
  }
  // Unsubscribed, the master has already dropped us (failover_timeout 0).
  if (client_.subscribed()) {
    if (auto s = client_.Teardown(); !s.ok()) {
      std::cerr << "keel-example-framework: TEARDOWN failed: " << s.message() << "\n";
    }
  }
  client_.Stop();
  return outcome;
}

Outcome RunTasksFramework::Wait(const sigset_t& interrupts) {
  const timespec tick{0, 100'000'000};
  for (;;) {
    if (::sigtimedwait(&interrupts, nullptr, &tick) > 0) return Outcome::kInterrupted;
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.empty()) return Outcome::kError;
    if (finished_ + failed_ >= options_.tasks) {
      return failed_ == 0 ? Outcome::kAllFinished : Outcome::kSomeFailed;
    }
    if (!connected_ && std::chrono::steady_clock::now() - unreachable_since_ >= kUnreachableLimit) {
      error_ = "master " + options_.master + " unreachable for 30 s: " + last_disconnect_;
      return Outcome::kError;
    }
  }
}

v1::TaskInfo RunTasksFramework::MakeTask(int index, const v1::Offer& offer) const {
  v1::TaskInfo task;
  const std::string id = "task-" + std::to_string(index);
  task.set_name(options_.name + " " + id);
  task.mutable_task_id()->set_value(id);
  *task.mutable_agent_id() = offer.agent_id();
  AddScalar(&task, "cpus", options_.cpus);
  AddScalar(&task, "mem", options_.mem);
  if (options_.executor.empty()) {
    task.mutable_command()->set_value(options_.command);
    return task;
  }
  // A task names its executor or a command, not both: the command goes to
  // the executor as the task's data.
  v1::ExecutorInfo* executor = task.mutable_executor();
  executor->mutable_executor_id()->set_value(kExecutorId);
  executor->set_type(v1::ExecutorInfo::CUSTOM);
  executor->mutable_command()->set_value(options_.executor);
  executor->mutable_command()->set_shell(false);
  for (auto [name, amount] : {std::pair{"cpus", kExecutorCpus}, std::pair{"mem", kExecutorMem}}) {
    v1::Resource* r = executor->add_resources();
    r->set_name(name);
    r->set_type(v1::Value::SCALAR);
    r->mutable_scalar()->set_value(amount);
  }
  task.set_data(options_.command);
  return task;
}

void RunTasksFramework::OnOffers(const Event& event) {
  for (const v1::Offer& offer : event.offers().offers()) {
    double cpus = ScalarSum(offer, "cpus");
    double mem = ScalarSum(offer, "mem");
    if (!options_.executor.empty()) {
      // Room for the executor too, in case it is not running there yet.
      cpus -= kExecutorCpus;
      mem -= kExecutorMem;
    }
    std::vector<v1::TaskInfo> tasks;
    while (launched_ < options_.tasks && cpus + kEpsilon >= options_.cpus &&
           mem + kEpsilon >= options_.mem) {
      tasks.push_back(MakeTask(launched_++, offer));
      cpus -= options_.cpus;
      mem -= options_.mem;
    }
    const Status s = tasks.empty() ? client_.Decline({offer.id()}, kRefuseSeconds)
                                   : client_.Accept({offer.id()}, tasks, kRefuseSeconds);
    if (!s.ok()) {
      std::cerr << "keel-example-framework: " << s.message() << "\n";
      // Refused tasks never started: the next offer launches them.
      launched_ -= static_cast<int>(tasks.size());
    }
  }
}

void RunTasksFramework::OnUpdate(const Event& event) {
  const v1::TaskStatus& status = event.update().status();
  if (!options_.executor.empty() && status.state() == v1::TASK_RUNNING) GreetExecutor(status);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = states_.try_emplace(status.task_id().value(), status.state());
  if (!added) {
    // Retried updates repeat a state; nothing follows a terminal one.
    if (it->second == status.state() || IsTerminal(it->second)) return;
    it->second = status.state();
  }
  std::cout << it->first << " " << v1::TaskState_Name(status.state());
  if (IsTerminal(status.state()) && status.state() != v1::TASK_FINISHED &&
      !status.message().empty()) {
    std::cout << " (" << status.message() << ")";
  }
  std::cout << std::endl;  // flushed: the output may be a pipe someone watches
  if (IsTerminal(status.state())) ++(status.state() == v1::TASK_FINISHED ? finished_ : failed_);
}

void RunTasksFramework::GreetExecutor(const v1::TaskStatus& status) {
  // The executor echoes it back (best effort both ways).
  v1::scheduler::Call call;
  call.set_type(v1::scheduler::Call::MESSAGE);
  *call.mutable_message()->mutable_agent_id() = status.agent_id();
  call.mutable_message()->mutable_executor_id()->set_value(kExecutorId);
  call.mutable_message()->set_data(status.task_id().value() + " is running");
  if (auto s = client_.Send(call); !s.ok()) {
    std::cerr << "keel-example-framework: " << s.message() << "\n";
  }
}

void RunTasksFramework::OnMessage(const Event& event) {
  std::lock_guard<std::mutex> lock(mu_);
  std::cout << "message from executor " << event.message().executor_id().value() << ": "
            << event.message().data() << std::endl;
}

}  // namespace keel::examples
