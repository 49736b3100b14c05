#include "tools/keelctl/config_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace keel::keelctl {

namespace fs = std::filesystem;

namespace {

// keelctl is installed beside the daemons' packages, or run from the build
// tree where both live in bin/.
std::string FindDaemon(const std::string& program) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& dir : {self.parent_path(), self.parent_path().parent_path() / "sbin"}) {
      fs::path candidate = dir / program;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  for (const char* dir : {"/usr/sbin", "/usr/local/sbin"}) {
    fs::path candidate = fs::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return program;  // execvp searches PATH
}

}  // namespace

int ConfigCheck(const std::string& file, std::string daemon,
                const std::vector<std::string>& module_path) {
  if (daemon.empty()) {
    std::string base = fs::path(file).filename().string();
    if (base.rfind("master", 0) == 0) daemon = "master";
    if (base.rfind("agent", 0) == 0) daemon = "agent";
  }
  if (daemon != "master" && daemon != "agent") {
    std::cerr << "keelctl: " << file
              << ": cannot tell whose config this is; add --daemon=master or --daemon=agent\n";
    return 2;
  }
  std::string program = FindDaemon("keel-" + daemon);
  std::vector<std::string> args = {program, "--config=" + file, "--check-config"};
  if (!module_path.empty()) {
    std::string joined;
    for (const auto& dir : module_path) joined += (joined.empty() ? "" : ":") + dir;
    args.push_back("--module_path=" + joined);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::cerr << "keelctl: cannot run " << program << ": " << std::strerror(errno) << "\n";
  return 2;
}

}  // namespace keel::keelctl
