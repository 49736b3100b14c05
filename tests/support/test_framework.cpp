#include "tests/support/test_framework.hpp"

#include <unistd.h>

namespace keel::test {

TestFramework::TestFramework(const std::string& master, FrameworkOptions options) {
  scheduler::ClientOptions o;
  o.master = master;
  o.framework.set_user(getlogin() ? getlogin() : "root");
  o.framework.set_name(options.name);
  o.framework.set_failover_timeout(options.failover_timeout);
  if (options.partition_aware) {
    o.framework.add_capabilities()->set_type(v1::FrameworkInfo::Capability::PARTITION_AWARE);
  }
  if (!options.framework_id.empty()) o.framework.mutable_id()->set_value(options.framework_id);
  o.principal = options.principal;
  o.secret = options.secret;
  const std::string& principal =
      options.framework_principal.empty() ? options.principal : options.framework_principal;
  if (!principal.empty() && options.send_framework_principal) o.framework.set_principal(principal);
  o.auto_acknowledge = options.auto_acknowledge;
  o.protobuf = options.protobuf;
  o.backoff_min = std::chrono::milliseconds(100);
  o.backoff_max = std::chrono::milliseconds(1000);
  client_ = std::make_unique<scheduler::SchedulerClient>(o);
  for (auto type : {Event::SUBSCRIBED, Event::OFFERS, Event::RESCIND, Event::UPDATE, Event::MESSAGE,
                    Event::FAILURE, Event::ERROR, Event::HEARTBEAT}) {
    client_->On(type, [this](const Event& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      changed_.notify_all();
    });
  }
  client_->Start();
}

TestFramework::~TestFramework() { client_->Stop(); }

void TestFramework::Disconnect() { client_->Stop(); }

bool TestFramework::WaitFor(const std::function<bool(const std::vector<Event>&)>& pred,
                            std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return pred(events_); });
}

std::vector<Event> TestFramework::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::optional<v1::Offer> TestFramework::TakeOffer(std::chrono::milliseconds timeout) {
  std::optional<v1::Offer> found;
  auto take = [&](const std::vector<Event>& events) {
    size_t seen = 0;
    for (const auto& e : events) {
      if (e.type() != Event::OFFERS) continue;
      for (const auto& offer : e.offers().offers()) {
        if (seen++ == offers_taken_) {
          found = offer;
          return true;
        }
      }
    }
    return false;
  };
  if (!WaitFor(take, timeout)) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  ++offers_taken_;
  return found;
}

std::vector<v1::TaskStatus> TestFramework::Statuses(const std::string& task_id) const {
  std::vector<v1::TaskStatus> out;
  for (const auto& e : events()) {
    if (e.type() == Event::UPDATE && e.update().status().task_id().value() == task_id) {
      out.push_back(e.update().status());
    }
  }
  return out;
}

std::optional<v1::TaskStatus> TestFramework::WaitForState(const std::string& task_id,
                                                          v1::TaskState state,
                                                          std::chrono::milliseconds timeout) {
  std::optional<v1::TaskStatus> found;
  WaitFor(
      [&](const std::vector<Event>& events) {
        for (const auto& e : events) {
          const auto& s = e.update().status();
          if (e.type() == Event::UPDATE && s.task_id().value() == task_id && s.state() == state) {
            found = s;
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

v1::TaskInfo TestFramework::CommandTask(const std::string& id, const v1::Offer& offer,
                                        const std::string& command, double cpus, double mem) {
  v1::TaskInfo task;
  task.set_name(id);
  task.mutable_task_id()->set_value(id);
  *task.mutable_agent_id() = offer.agent_id();
  for (auto [name, value] : {std::pair<const char*, double>{"cpus", cpus}, {"mem", mem}}) {
    auto* r = task.add_resources();
    r->set_name(name);
    r->set_type(v1::Value::SCALAR);
    r->mutable_scalar()->set_value(value);
  }
  task.mutable_command()->set_value(command);
  return task;
}

Status TestFramework::Launch(const v1::Offer& offer, const v1::TaskInfo& task) {
  return client_->Accept({offer.id()}, {task}, 0);
}

}  // namespace keel::test
