// keel-example-framework --master=HOST:PORT --tasks=N [--command=CMD]
//     [--cpus=0.1] [--mem=32] [--name=NAME] [--executor=PATH]
// Exit codes: 0 every task finished, 1 some did not, 2 error, 130 SIGINT.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "run_tasks_framework.hpp"

namespace {

using keel::examples::Outcome;
using keel::examples::RunTasksOptions;

constexpr const char* kUsage =
    "Usage: keel-example-framework --master=HOST:PORT --tasks=N\n"
    "           [--command='echo hello from $MESOS_TASK_ID'] [--cpus=0.1] [--mem=32]\n"
    "           [--name=keel-example-framework] [--executor=PATH]\n";

std::optional<double> ParsePositive(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value > 0)) return std::nullopt;
  return value;
}

bool IsHostPort(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  return text.find_first_not_of("0123456789", colon + 1) == std::string::npos;
}

// Fills `options` from argv (`--name=value` or `--name value`); returns
// what is wrong, if anything.
std::optional<std::string> ParseFlags(int argc, char** argv, RunTasksOptions* options) {
  bool tasks_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return "unexpected argument '" + arg + "'";
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return "flag --" + name + " needs a value";
    }
    if (name == "master") {
      if (!IsHostPort(value)) return "--master must be HOST:PORT, not '" + value + "'";
      options->master = value;
    } else if (name == "tasks") {
      char* end = nullptr;
      const long n = std::strtol(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0' || n < 1 || n > 1000000) {
        return "--tasks must be an integer from 1 to 1000000, not '" + value + "'";
      }
      options->tasks = static_cast<int>(n);
      tasks_given = true;
    } else if (name == "command") {
      if (value.empty()) return "--command must not be empty";
      options->command = value;
    } else if (name == "cpus" || name == "mem") {
      auto amount = ParsePositive(value);
      if (!amount) return "--" + name + " must be a positive number, not '" + value + "'";
      (name == "cpus" ? options->cpus : options->mem) = *amount;
    } else if (name == "name") {
      options->name = value;
    } else if (name == "executor") {
      if (value.empty()) return "--executor must name the executor's path on the agents";
      options->executor = value;
    } else {
      return "unknown flag --" + name;
    }
  }
  if (options->master.empty()) return "--master is required";
  if (!tasks_given) return "--tasks is required";
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help") {
      std::cout << kUsage;
      return 0;
    }
  }
  RunTasksOptions options;
  if (auto error = ParseFlags(argc, argv, &options)) {
    std::cerr << "keel-example-framework: " << *error << "\n" << kUsage;
    return 2;
  }
  const passwd* user = ::getpwuid(::geteuid());
  if (user == nullptr) {
    std::cerr << "keel-example-framework: no user name for uid " << ::geteuid() << "\n";
    return 2;
  }
  options.user = user->pw_name;

  // Blocked before the client's thread starts, so that it inherits the mask
  // and only Run() receives them.
  sigset_t interrupts;
  sigemptyset(&interrupts);
  sigaddset(&interrupts, SIGINT);
  sigaddset(&interrupts, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &interrupts, nullptr);

  keel::examples::RunTasksFramework framework(options);
  switch (framework.Run(interrupts)) {
    case Outcome::kAllFinished:
      return 0;
    case Outcome::kSomeFailed:
      return 1;
    case Outcome::kError:
      std::cerr << "keel-example-framework: " << framework.error() << "\n";
      return 2;
    case Outcome::kInterrupted:
      std::cerr << "keel-example-framework: interrupted\n";
      return 130;
  }
  return 2;
}
