#include "tools/keelctl/kill_command.hpp"

#include <cctype>
#include <chrono>
#include <iostream>
#include <thread>

#include "keel/parameters.hpp"
#include "tools/keelctl/task_lookup.hpp"

namespace keel::keelctl {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(250);

Outcome<std::chrono::nanoseconds> TimeoutOf(const FlagMap& flags) {
  auto it = flags.find("timeout");
  if (it == flags.end()) return std::chrono::nanoseconds(std::chrono::seconds(30));
  std::string text = it->second;
  // A bare number is seconds.
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text.back()))) text += "s";
  auto parsed = ParseDuration(text);
  if (!parsed.ok() || parsed->count() <= 0) {
    return Failure{kExitUsage,
                   "kill: --timeout must be a duration (30s, 2mins), not '" + it->second + "'"};
  }
  return *parsed;
}

int Ended(const TaskRef& task) {
  std::cout << "task " << task.id << " " << task.state << "\n";
  return kExitOk;
}

}  // namespace

int Kill(const FlagMap& flags, const std::vector<std::string>& words) {
  if (words.size() != 1) {
    return Report({kExitUsage, "kill needs one task id: keelctl kill TASK [--framework=ID]"});
  }
  auto timeout = TimeoutOf(flags);
  if (!timeout.ok()) return Report(timeout.failure());
  auto client = MasterClient::FromFlags(flags);
  if (!client.ok()) return Report(client.failure());
  const std::string framework = flags.count("framework") ? flags.at("framework") : "";
  auto task = FindTask(*client, words[0], framework);
  if (!task.ok()) return Report(task.failure());
  if (IsTerminalState(task->state)) {
    std::cerr << "keelctl: task " << task->id << " had already ended\n";
    return Ended(*task);
  }

  const std::string target = "/master/kill_task?framework_id=" + QueryEncode(task->framework_id) +
                             "&task_id=" + QueryEncode(task->id);
  auto reply = client->Post(target);
  if (!reply.ok()) return Report(reply.failure());
  if (reply->status == 404) {
    // It may have ended between the lookup and the kill.
    auto again = FindTask(*client, task->id, task->framework_id);
    if (again.ok() && IsTerminalState(again->state)) return Ended(*again);
    std::string why = reply->body.substr(0, reply->body.find('\n'));
    return Report({kExitNotFound, "the master runs no task '" + task->id + "' of framework " +
                                      task->framework_id + ": " + why});
  }
  if (reply->status / 100 != 2) {
    return Report({kExitFailed, "the master answered " + std::to_string(reply->status) +
                                    " to POST " + target + ": " +
                                    reply->body.substr(0, reply->body.find('\n'))});
  }
  std::cerr << "keelctl: asked the master to kill task " << task->id << "\n";

  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  for (;;) {
    task = FindTask(*client, task->id, task->framework_id);
    if (!task.ok()) return Report(task.failure());
    if (IsTerminalState(task->state)) return Ended(*task);
    if (std::chrono::steady_clock::now() >= deadline) {
      return Report({kExitFailed, "task " + task->id + " is still " + task->state + " after " +
                                      FormatDuration(*timeout)});
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace keel::keelctl
