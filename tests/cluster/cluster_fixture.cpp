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
