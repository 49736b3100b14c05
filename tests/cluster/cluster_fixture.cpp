#include "tests/cluster/cluster_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

namespace keel::test {

std::string SandboxOf(const LocalCluster& cluster, const std::string& framework_id,
                      const std::string& task_id) {
  return SandboxIn(cluster.agent_work_dir(), framework_id, task_id);
}

std::string SandboxIn(const std::string& agent_work_dir, const std::string& framework_id,
                      const std::string& task_id) {
  namespace fs = std::filesystem;
  const fs::path slaves = agent_work_dir + "/slaves";
  std::error_code ec;
  for (const auto& agent : fs::directory_iterator(slaves, ec)) {
    fs::path runs = agent.path() / "frameworks" / framework_id / "executors" / task_id / "runs";
    for (const auto& run : fs::directory_iterator(runs, ec)) return run.path().string();
  }
  return "";
}

std::string WaitForSandbox(const LocalCluster& cluster, const std::string& framework_id,
                           const std::string& task_id) {
  for (int i = 0; i < 500; ++i) {
    std::string sandbox = SandboxOf(cluster, framework_id, task_id);
    if (!sandbox.empty()) return sandbox;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

v1::TaskInfo ExecutorTask(const std::string& id, const v1::Offer& offer,
                          const std::string& executor_id, const std::string& command) {
  v1::TaskInfo task = TestFramework::CommandTask(id, offer, "unused", 0.1, 16);
  task.clear_command();
  v1::ExecutorInfo* executor = task.mutable_executor();
  executor->mutable_executor_id()->set_value(executor_id);
  executor->set_type(v1::ExecutorInfo::CUSTOM);
  executor->mutable_command()->set_value(command);
  auto* r = executor->add_resources();
  r->set_name("cpus");
  r->set_type(v1::Value::SCALAR);
  r->mutable_scalar()->set_value(0.1);
  return task;
}

v1::scheduler::Call LaunchGroupCall(const v1::Offer& offer, const std::string& id,
                                    v1::ExecutorInfo::Type type) {
  v1::scheduler::Call call;
  call.set_type(v1::scheduler::Call::ACCEPT);
  *call.mutable_accept()->add_offer_ids() = offer.id();
  auto* op = call.mutable_accept()->add_operations();
  op->set_type(v1::Offer::Operation::LAUNCH_GROUP);
  v1::ExecutorInfo* executor = op->mutable_launch_group()->mutable_executor();
  executor->set_type(type);
  executor->mutable_executor_id()->set_value(id);
  auto* r = executor->add_resources();
  r->set_name("cpus");
  r->set_type(v1::Value::SCALAR);
  r->mutable_scalar()->set_value(0.1);
  // The executor is a real program under the group's cgroups memory limit:
  // room for its runtime (an AddressSanitizer build's too), beside its tasks.
  r = executor->add_resources();
  r->set_name("mem");
  r->set_type(v1::Value::SCALAR);
  r->mutable_scalar()->set_value(256);
  op->mutable_launch_group()->mutable_task_group();
  return call;
}

pid_t TaskPid(const LocalCluster& cluster, const std::string& framework_id,
              const std::string& task_id) {
  return TaskPidIn(cluster.agent_work_dir(), framework_id, task_id);
}

pid_t TaskPidIn(const std::string& agent_work_dir, const std::string& framework_id,
                const std::string& task_id) {
  // RUNNING may arrive before the task's own process has made its sandbox.
  for (int i = 0; i < 500; ++i) {
    const std::string sandbox = SandboxIn(agent_work_dir, framework_id, task_id);
    std::string pid = sandbox.empty() ? "" : ReadFile(sandbox + "/pid");
    if (!pid.empty()) return std::stoi(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool ProcessGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace keel::test
