#include "tools/keelctl/logs_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "tools/keelctl/json_fields.hpp"
#include "tools/keelctl/task_lookup.hpp"

namespace keel::keelctl {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(500);
constexpr int64_t kReadChunk = 1 << 20;  // the agent's limit per read
constexpr int64_t kTailChunk = 64 * 1024;

// One file of a task's sandbox, read through the agent's /files/read.
class SandboxFile {
 public:
  SandboxFile(const MasterClient& client, Endpoint agent, const TaskRef& task,
              const std::string& name)
      : client_(client),
        agent_(std::move(agent)),
        path_("/frameworks/" + task.framework_id + "/executors/" + task.id + "/runs/latest/" +
              name) {}

  Outcome<int64_t> Size() const {
    auto answer = Get(-1, 0);
    if (!answer.ok()) return answer.failure();
    const Value* offset = Find(*answer, "offset");
    if (offset == nullptr || !offset->has_number_value()) {
      return Failure{kExitFailed, "the agent's answer for " + path_ + " has no 'offset'"};
    }
    return static_cast<int64_t>(offset->number_value());
  }

  // Up to `length` bytes from `offset`; fewer (or none) at the file's end.
  Outcome<std::string> Read(int64_t offset, int64_t length) const {
    auto answer = Get(offset, length);
    if (!answer.ok()) return answer.failure();
    const Value* data = Find(*answer, "data");
    if (data == nullptr || !data->has_string_value()) {
      return Failure{kExitFailed, "the agent's answer for " + path_ + " has no 'data'"};
    }
    return data->string_value();
  }

 private:
  Outcome<Struct> Get(int64_t offset, int64_t length) const {
    std::string target =
        "/files/read?path=" + QueryEncode(path_) + "&offset=" + std::to_string(offset);
    if (length > 0) target += "&length=" + std::to_string(length);
    return client_.GetAgentJson(agent_, target);
  }

  const MasterClient& client_;
  const Endpoint agent_;
  const std::string path_;
};

// Where the last `lines` lines of a file of `size` bytes begin.
Outcome<int64_t> TailStart(const SandboxFile& file, int64_t size, long lines) {
  if (lines == 0) return size;
  long seen = 0;
  for (int64_t start = size; start > 0;) {
    const int64_t length = std::min(kTailChunk, start);
    start -= length;
    auto data = file.Read(start, length);
    if (!data.ok()) return data.failure();
    for (int64_t i = static_cast<int64_t>(data->size()) - 1; i >= 0; --i) {
      // The file's last newline ends its last line; it does not begin one.
      if ((*data)[i] != '\n' || start + i == size - 1) continue;
      if (++seen == lines) return start + i + 1;
    }
  }
  return int64_t{0};
}

// Prints everything from `*offset` to the file's current end.
Outcome<bool> Drain(const SandboxFile& file, int64_t* offset) {
  for (;;) {
    auto data = file.Read(*offset, kReadChunk);
    if (!data.ok()) return data.failure();
    if (data->empty()) return true;
    std::cout.write(data->data(), static_cast<std::streamsize>(data->size()));
    std::cout.flush();
    *offset += static_cast<int64_t>(data->size());
  }
}

// Prints what the file holds past `*offset`; the first time (no offset
// yet), all of it or its last `tail` lines.
Outcome<bool> PrintNew(const SandboxFile& file, long tail, std::optional<int64_t>* offset) {
  if (!*offset) {
    if (tail < 0) {
      *offset = 0;
    } else {
      auto size = file.Size();
      if (!size.ok()) return size.failure();
      auto start = TailStart(file, *size, tail);
      if (!start.ok()) return start.failure();
      *offset = *start;
    }
  }
  return Drain(file, &**offset);
}

Outcome<long> TailOf(const FlagMap& flags) {
  auto it = flags.find("tail");
  if (it == flags.end()) return -1L;
  char* end = nullptr;
  const long lines = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || lines < 0) {
    return Failure{kExitUsage, "logs: --tail must be a number of lines, not '" + it->second + "'"};
  }
  return lines;
}

}  // namespace

int Logs(const FlagMap& flags, const std::vector<std::string>& words) {
  if (words.size() != 1) {
    return Report({kExitUsage, "logs needs one task id: keelctl logs TASK [--follow] [--stderr]"});
  }
  auto tail = TailOf(flags);
  if (!tail.ok()) return Report(tail.failure());
  auto client = MasterClient::FromFlags(flags);
  if (!client.ok()) return Report(client.failure());
  const std::string framework = flags.count("framework") ? flags.at("framework") : "";
  auto task = FindTask(*client, words[0], framework);
  if (!task.ok()) return Report(task.failure());
  if (task->agent_id.empty()) {
    return Report({kExitNotFound, "task '" + task->id + "' has no agent yet, so no sandbox"});
  }
  auto agent = AgentEndpoint(*client, task->agent_id);
  if (!agent.ok()) return Report(agent.failure());
  const SandboxFile file(*client, *agent, *task, FlagOn(flags, "stderr") ? "stderr" : "stdout");
  const bool follow = FlagOn(flags, "follow");

  std::optional<int64_t> offset;
  for (bool ended = IsTerminalState(task->state);; std::this_thread::sleep_for(kPollInterval)) {
    // The state first: whatever the task wrote before it ended is in the file by now.
    if (follow && !ended) {
      task = FindTask(*client, task->id, task->framework_id);
      if (!task.ok()) return Report(task.failure());
      ended = IsTerminalState(task->state);
    }
    if (auto printed = PrintNew(file, *tail, &offset); !printed.ok()) {
      // A task that has not started yet has no sandbox yet.
      if (follow && !ended && printed.failure().exit_code == kExitNotFound) continue;
      return Report(printed.failure());
    }
    if (!follow || ended) return kExitOk;
  }
}

}  // namespace keel::keelctl
