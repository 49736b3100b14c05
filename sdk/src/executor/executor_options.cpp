// ExecutorOptions::FromEnvironment and Mesos's duration strings.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <utility>

#include "keel/executor/executor_client.hpp"

extern char** environ;

namespace keel::executor {

namespace {

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

bool IsHostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  if (text.find_first_not_of("0123456789", colon + 1) != std::string::npos) return false;
  const long port = std::strtol(text.c_str() + colon + 1, nullptr, 10);
  return port > 0 && port <= 65535;
}

const std::string* Find(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

// Sets `*out` from variable `name` when it is set; an error naming it when
// it does not parse.
Status ReadDuration(const std::map<std::string, std::string>& env, const std::string& name,
                    std::chrono::milliseconds* out) {
  const std::string* value = Find(env, name);
  if (value == nullptr) return Status::Ok();
  auto parsed = ParseDuration(*value);
  if (!parsed.ok()) return Status::Error(name + ": " + parsed.status().message());
  *out = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  return Status::Ok();
}

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  const double amount = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(amount) || amount < 0) {
    return Status::Error("'" + text + "' is not a duration (a number and a unit, as '5secs')");
  }
  std::string unit(end);
  unit.erase(0, unit.find_first_not_of(' '));
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1},           {"us", 1e3},        {"ms", 1e6},       {"secs", 1e9},    {"sec", 1e9},
      {"s", 1e9},          {"mins", 60e9},     {"min", 60e9},     {"m", 60e9},      {"hrs", 3600e9},
      {"hr", 3600e9},      {"h", 3600e9},      {"days", 86400e9}, {"day", 86400e9}, {"d", 86400e9},
      {"weeks", 604800e9}, {"week", 604800e9}, {"w", 604800e9}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    const double ns = amount * factor;
    if (ns >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
      return Status::Error("'" + text + "' is too long a duration");
    }
    return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
  }
  return Status::Error("'" + text + "': unknown duration unit '" + unit +
                       "' (ns, us, ms, secs, mins, hrs, days, weeks)");
}

Result<ExecutorOptions> ExecutorOptions::FromEnvironment() {
  return FromEnvironment(ProcessEnvironment());
}

Result<ExecutorOptions> ExecutorOptions::FromEnvironment(
    const std::map<std::string, std::string>& env) {
  ExecutorOptions options;
  if (const std::string* endpoint = Find(env, "MESOS_AGENT_ENDPOINT")) {
    options.agent = *endpoint;
  } else if (const std::string* pid = Find(env, "MESOS_SLAVE_PID")) {
    // Older agents name only their libprocess pid, "slave(1)@10.0.0.5:5051".
    const auto at = pid->find('@');
    if (at != std::string::npos) options.agent = pid->substr(at + 1);
  }
  if (options.agent.empty()) {
    return Status::Error(
        "MESOS_AGENT_ENDPOINT is not set (the agent sets it for the executors it "
        "launches: HOST:PORT of its HTTP endpoint)");
  }
  if (!IsHostPort(options.agent)) {
    return Status::Error("MESOS_AGENT_ENDPOINT: expected HOST:PORT, not '" + options.agent + "'");
  }
  for (auto [name, field] : {std::pair{"MESOS_FRAMEWORK_ID", &options.framework_id},
                             std::pair{"MESOS_EXECUTOR_ID", &options.executor_id}}) {
    const std::string* value = Find(env, name);
    if (value == nullptr) return Status::Error(std::string(name) + " is not set");
    *field = *value;
  }

  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  const std::string* directory = Find(env, "MESOS_DIRECTORY");
  const std::string* sandbox = Find(env, "MESOS_SANDBOX");
  options.directory = directory ? *directory : sandbox ? *sandbox : cwd;
  options.sandbox = sandbox ? *sandbox : options.directory;

  if (const std::string* checkpoint = Find(env, "MESOS_CHECKPOINT")) {
    if (*checkpoint == "1" || *checkpoint == "true") {
      options.checkpoint = true;
    } else if (*checkpoint != "0" && *checkpoint != "false") {
      return Status::Error("MESOS_CHECKPOINT: expected 1 or 0, not '" + *checkpoint + "'");
    }
  }
  for (auto [name, field] :
       {std::pair{"MESOS_RECOVERY_TIMEOUT", &options.recovery_timeout},
        std::pair{"MESOS_SUBSCRIPTION_BACKOFF_MAX", &options.backoff_max},
        std::pair{"MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", &options.shutdown_grace_period}}) {
    if (auto s = ReadDuration(env, name, field); !s.ok()) return s;
  }
  if (const std::string* token = Find(env, "MESOS_EXECUTOR_AUTHENTICATION_TOKEN")) {
    options.authentication_token = *token;
  }
  return options;
}

}  // namespace keel::executor
