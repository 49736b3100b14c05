#include "tools/keelctl/run_command.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>

#include "keel/scheduler/scheduler_client.hpp"
#include "keel/task_state.hpp"
#include "tools/keelctl/json_fields.hpp"
#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

namespace {

// `word` as one shell word: in single quotes unless it needs none.
std::string ShellQuoted(const std::string& word) {
  const bool plain = !word.empty() && word.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789_-./=:,+@%") == std::string::npos;
  if (plain) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

using scheduler::Event;

constexpr auto kUnreachableLimit = std::chrono::seconds(30);
constexpr auto kHttpTimeout = std::chrono::seconds(10);
constexpr size_t kReadChunk = 64 * 1024;
// Offers that do not fit come back soon: the agent may free room.
constexpr double kRefuseSeconds = 1.0;

struct RunOptions {
  std::string master;
  double cpus = 0.1;
  double mem = 32;
  std::string name = "keelctl run";
  std::string command;
};

// "Command exited with status 3" -> 3; "... signal 9 (Killed)" and Mesos's
// "... signal Killed" -> 128 + 9, as a shell reports them.
std::optional<int> ExitCodeIn(const std::string& message) {
  const std::string status = "exited with status ";
  if (auto at = message.find(status); at != std::string::npos) {
    const char* digits = message.c_str() + at + status.size();
    if (std::isdigit(static_cast<unsigned char>(*digits))) return std::atoi(digits);
  }
  const std::string signal = "signal ";
  if (auto at = message.find(signal); at != std::string::npos) {
    const std::string rest = message.substr(at + signal.size());
    if (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest[0]))) {
      return 128 + std::atoi(rest.c_str());
    }
    // Downwards, so that "Real-time signal 10" is tried before its prefix "... 1".
    for (int signo = NSIG - 1; signo > 0; --signo) {
      const char* name = ::strsignal(signo);
      if (name != nullptr && rest.rfind(name, 0) == 0) return 128 + signo;
    }
  }
  return std::nullopt;
}

int ExitCodeOf(const v1::TaskStatus& status) {
  if (status.state() == v1::TASK_FINISHED) return 0;
  if (status.state() == v1::TASK_FAILED) return ExitCodeIn(status.message()).value_or(1);
  return 1;
}

// The task's whole stdout, read from its agent's /files/read in chunks.
Status ReadStdout(const std::string& host, int port, const std::string& framework_id,
                  const std::string& task_id, std::string* out) {
  const std::string path =
      "/frameworks/" + framework_id + "/executors/" + task_id + "/runs/latest/stdout";
  const Endpoint agent{host, static_cast<uint16_t>(port)};
  for (size_t offset = 0;;) {
    const std::string target = "/files/read?path=" + QueryEncode(path) +
                               "&offset=" + std::to_string(offset) +
                               "&length=" + std::to_string(kReadChunk);
    const std::string url = "http://" + agent.ToString() + target;
    auto reply = HttpRequest(agent, "GET", target, "", kHttpTimeout);
    if (!reply.ok()) return Status::Error(url + ": " + reply.failure().message);
    if (reply->status != 200) {
      return Status::Error(url + ": answered " + std::to_string(reply->status) + ": " +
                           reply->body);
    }
    auto answer = ParseObject(reply->body, url + ": the answer");
    if (!answer.ok()) return Status::Error(answer.failure().message);
    const std::string data = Text(*answer, "data", "");
    *out += data;
    offset += data.size();
    if (data.size() < kReadChunk) return Status::Ok();
  }
}

std::string RandomSuffix() {
  std::random_device device;
  std::string out;
  for (int i = 0; i < 8; ++i) out += "0123456789abcdef"[device() % 16];
  return out;
}

// One task from offer to terminal status. Handlers fill it on the client's
// thread; Wait() reads it on the caller's.
class TaskRun {
 public:
  explicit TaskRun(const RunOptions& options, const std::string& user)
      : options_(options), task_id_("keelctl-" + RandomSuffix()), client_(ClientOptionsFor(user)) {
    client_.On(Event::OFFERS, [this](const Event& e) { OnOffers(e); });
    client_.On(Event::UPDATE, [this](const Event& e) { OnUpdate(e); });
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
      if (connected_) unreachable_since_ = std::chrono::steady_clock::now();
      connected_ = false;
      last_disconnect_ = why;
    });
  }

  // Runs the task; returns keelctl's exit code. `interrupts` are blocked in
  // every thread so that only this call receives them.
  int Run(const sigset_t& interrupts) {
    unreachable_since_ = std::chrono::steady_clock::now();
    client_.Start();
    const Ending ending = Wait(interrupts);
    // Before TEARDOWN, which lets the agent remove the sandbox.
    if (ending.task_ended) PrintStdout();
    // Unsubscribed, the master has already dropped us (failover_timeout 0).
    if (client_.subscribed()) {
      if (auto s = client_.Teardown(); !s.ok()) {
        std::cerr << "keelctl: TEARDOWN failed: " << s.message() << "\n";
      }
    }
    client_.Stop();
    return ending.code;
  }

 private:
  scheduler::ClientOptions ClientOptionsFor(const std::string& user) const {
    scheduler::ClientOptions client;
    client.master = options_.master;
    client.framework.set_user(user);
    client.framework.set_name(options_.name);
    client.framework.set_failover_timeout(0);  // the framework ends with keelctl
    client.auto_acknowledge = true;
    return client;
  }

  struct Ending {
    int code;
    bool task_ended;
  };

  Ending Wait(const sigset_t& interrupts) {
    const timespec tick{0, 100'000'000};
    for (;;) {
      if (::sigtimedwait(&interrupts, nullptr, &tick) > 0) {
        std::cerr << "keelctl: interrupted\n";
        return {130, false};
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.empty()) {
        std::cerr << "keelctl: " << error_ << "\n";
        return {2, false};
      }
      if (final_) return {ExitCodeOf(*final_), true};
      if (!connected_ &&
          std::chrono::steady_clock::now() - unreachable_since_ >= kUnreachableLimit) {
        std::cerr << "keelctl: master " << options_.master
                  << " unreachable for 30 s: " << last_disconnect_ << "\n";
        return {2, false};
      }
    }
  }

  void OnOffers(const Event& event) {
    for (const v1::Offer& offer : event.offers().offers()) {
      if (launched_ || !Fits(offer)) {
        (void)client_.Decline({offer.id()}, kRefuseSeconds);
        continue;
      }
      v1::TaskInfo task;
      task.set_name(options_.name);
      task.mutable_task_id()->set_value(task_id_);
      *task.mutable_agent_id() = offer.agent_id();
      task.mutable_command()->set_value(options_.command);
      AddScalar(&task, "cpus", options_.cpus);
      AddScalar(&task, "mem", options_.mem);
      if (auto s = client_.Accept({offer.id()}, {task}, kRefuseSeconds); !s.ok()) {
        std::cerr << "keelctl: " << s.message() << "; waiting for another offer\n";
        continue;
      }
      launched_ = true;
      std::lock_guard<std::mutex> lock(mu_);
      agent_host_ = offer.url().address().ip();
      if (agent_host_.empty()) agent_host_ = offer.url().address().hostname();
      agent_port_ = offer.url().address().port();
    }
  }

  void OnUpdate(const Event& event) {
    const v1::TaskStatus& status = event.update().status();
    std::lock_guard<std::mutex> lock(mu_);
    if (status.task_id().value() != task_id_ || final_ || status.state() == last_state_) return;
    last_state_ = status.state();
    std::cerr << "keelctl: task " << task_id_ << " " << v1::TaskState_Name(status.state())
              << " on agent " << status.agent_id().value();
    if (IsTerminal(status.state()) && status.state() != v1::TASK_FINISHED &&
        !status.message().empty()) {
      std::cerr << ": " << status.message();
    }
    std::cerr << "\n";
    if (IsTerminal(status.state())) final_ = status;
  }

  bool Fits(const v1::Offer& offer) const {
    double cpus = 0;
    double mem = 0;
    for (const auto& r : offer.resources()) {
      if (r.type() != v1::Value::SCALAR) continue;
      if (r.name() == "cpus") cpus += r.scalar().value();
      if (r.name() == "mem") mem += r.scalar().value();
    }
    return cpus >= options_.cpus && mem >= options_.mem;
  }

  static void AddScalar(v1::TaskInfo* task, const std::string& name, double value) {
    v1::Resource* r = task->add_resources();
    r->set_name(name);
    r->set_type(v1::Value::SCALAR);
    r->mutable_scalar()->set_value(value);
  }

  void PrintStdout() {
    std::string host;
    int port = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      host = agent_host_;
      port = agent_port_;
    }
    if (host.empty()) return;  // never launched: nothing ran
    std::string out;
    if (auto s = ReadStdout(host, port, client_.framework_id(), task_id_, &out); !s.ok()) {
      std::cerr << "keelctl: warning: cannot read the task's stdout from " << s.message() << "\n";
      return;
    }
    std::cout << out << std::flush;
  }

  const RunOptions options_;
  const std::string task_id_;
  scheduler::SchedulerClient client_;
  bool launched_ = false;  // only on the client's thread

  std::mutex mu_;  // guards the fields below
  std::string agent_host_;
  int agent_port_ = 0;
  v1::TaskState last_state_ = v1::TASK_UNKNOWN;
  std::optional<v1::TaskStatus> final_;
  std::string error_;
  bool connected_ = false;
  std::chrono::steady_clock::time_point unreachable_since_;
  std::string last_disconnect_;
};

std::optional<double> PositiveNumber(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value > 0)) return std::nullopt;
  return value;
}

}  // namespace

int Run(const std::map<std::string, std::string>& flags, const std::vector<std::string>& command) {
  RunOptions options;
  for (const auto& [name, value] : flags) {
    if (name == "master") {
      options.master = value;
    } else if (name == "name") {
      options.name = value;
    } else if (auto amount = PositiveNumber(value)) {
      (name == "cpus" ? options.cpus : options.mem) = *amount;
    } else {
      std::cerr << "keelctl: run: --" << name << " must be a positive number, not '" << value
                << "'\n";
      return 2;
    }
  }
  if (options.master.empty() || command.empty()) {
    std::cerr << "keelctl: run needs --master=HOST:PORT and a command after '--'\n";
    return 2;
  }
  // One word is a shell command line ("echo a; echo b"); several are the
  // command's own words, each quoted so the shell sees them as given
  // (`-- sh -c 'echo a; sleep 1'`).
  if (command.size() == 1) {
    options.command = command[0];
  } else {
    for (const auto& word : command) {
      options.command += (options.command.empty() ? "" : " ") + ShellQuoted(word);
    }
  }
  const passwd* user = ::getpwuid(::geteuid());
  if (user == nullptr) {
    std::cerr << "keelctl: run: no user name for uid " << ::geteuid() << "\n";
    return 2;
  }
  // Blocked before the client's thread starts, so that it inherits the mask.
  sigset_t interrupts;
  sigemptyset(&interrupts);
  sigaddset(&interrupts, SIGINT);
  sigaddset(&interrupts, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &interrupts, nullptr);
  TaskRun run(options, user->pw_name);
  return run.Run(interrupts);
}

}  // namespace keel::keelctl
