// keel-default-executor: the executor a Keel agent starts for task groups
// (ExecutorInfo type DEFAULT), Mesos's default executor rebuilt on the SDK's
// executor client. It takes everything from the environment the agent gives
// it (see keel/executor/executor_client.hpp); flags other than --help are
// accepted and ignored, as an agent of Mesos passes some (--launcher_dir).
//
// Exit status: 0 when it is done (every task ended, SHUTDOWN or the agent
// gone); 1 when the environment is wrong or the agent never answered.
#include <signal.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "default_executor.hpp"

extern char** environ;

namespace {

using keel::executor::Event;
using keel::executor::ExecutorClient;
using keel::executor::ExecutorOptions;

constexpr const char* kUsage =
    "Usage: keel-default-executor\n"
    "Run by a Keel (or Mesos) agent for task groups; reads MESOS_AGENT_ENDPOINT,\n"
    "MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_SANDBOX, MESOS_DIRECTORY,\n"
    "MESOS_CHECKPOINT, MESOS_RECOVERY_TIMEOUT, MESOS_SUBSCRIPTION_BACKOFF_MAX,\n"
    "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD and MESOS_EXECUTOR_AUTHENTICATION_TOKEN.\n";

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return env;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
  }
  auto options = ExecutorOptions::FromEnvironment();
  if (!options.ok()) {
    std::cerr << "keel-default-executor: " << options.status().message() << "\n" << kUsage;
    return 1;
  }
  std::cerr << "keel-default-executor: executor " << options->executor_id << " of framework "
            << options->framework_id << ", agent " << options->agent << ", sandbox "
            << options->sandbox << std::endl;

  // SIGTERM and SIGINT mean SHUTDOWN; blocked before any thread starts so
  // that only the signal thread takes them (tasks get their mask reset).
  sigset_t interrupts;
  sigemptyset(&interrupts);
  sigaddset(&interrupts, SIGTERM);
  sigaddset(&interrupts, SIGINT);
  pthread_sigmask(SIG_BLOCK, &interrupts, nullptr);
  // Orphaned grandchildren of the tasks are reparented here and reaped.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);

  keel::default_executor::TaskContext context{Environment(), options->sandbox, options->directory};
  ExecutorClient client(*options);
  keel::default_executor::DefaultExecutor executor(client, std::move(context));
  for (auto type : {Event::SUBSCRIBED, Event::LAUNCH, Event::LAUNCH_GROUP, Event::KILL,
                    Event::ACKNOWLEDGED, Event::MESSAGE, Event::ERROR, Event::SHUTDOWN}) {
    client.On(type, [&executor](const Event& e) { executor.Post(e); });
  }
  client.OnDisconnected([](const std::string& why) {
    std::cerr << "keel-default-executor: agent: " << why << std::endl;
  });

  std::thread([&executor] { executor.ReapChildren(); }).detach();
  std::thread([&executor, interrupts] {
    int sig = 0;
    while (sigwait(&interrupts, &sig) == 0) {
      std::cerr << "keel-default-executor: signal " << sig << ": shutting down" << std::endl;
      Event shutdown;
      shutdown.set_type(Event::SHUTDOWN);
      executor.Post(shutdown);
    }
  }).detach();

  client.Start();
  const int status = executor.Run();
  client.Stop();
  std::cerr << "keel-default-executor: done" << std::endl;
  std::fflush(nullptr);
  // The reaper and signal threads are still blocked; leave without unwinding
  // under them.
  std::_Exit(status);
}
