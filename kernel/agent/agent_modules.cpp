#include "kernel/agent/agent_modules.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "keel/config/config.pb.h"

namespace keel::agent {
namespace {

const google::protobuf::Struct& NoParameters() {
  static const google::protobuf::Struct* empty = new google::protobuf::Struct();
  return *empty;
}

// The v2 controllers enabled at the root of the unified hierarchy, when
// /sys/fs/cgroup is one (not v1's tmpfs of hierarchies).
std::set<std::string> UnifiedControllers() {
  std::ifstream in("/sys/fs/cgroup/cgroup.controllers");
  std::set<std::string> names;
  std::string name;
  while (in >> name) names.insert(name);
  return names;
}

bool CgroupsUsable() {
  if (::geteuid() != 0) return false;
  const std::set<std::string> unified = UnifiedControllers();
  for (const char* controller : {"cpu", "memory", "pids"}) {
    const std::string v1 = std::string("/sys/fs/cgroup/") + controller;
    const bool in_v1 = ::access((v1 + "/cgroup.procs").c_str(), W_OK) == 0;
    if (!in_v1 && unified.count(controller) == 0) return false;
  }
  return true;
}

bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

void AddByName(const std::string& where, const std::string& suffix, ModuleKind kind,
               const std::vector<std::string>& names,
               std::vector<runtime::ModuleRequest>* requests) {
  for (size_t i = 0; i < names.size(); ++i) {
    requests->push_back(
        {where + "[" + std::to_string(i) + "]" + suffix, kind, names[i], &NoParameters()});
  }
}

void AddConfigured(const std::string& where, ModuleKind kind,
                   const google::protobuf::RepeatedPtrField<config::ModuleConfig>& modules,
                   std::vector<runtime::ModuleRequest>* requests) {
  for (int i = 0; i < modules.size(); ++i) {
    requests->push_back(
        {where + "[" + std::to_string(i) + "]", kind, modules[i].name(), &modules[i].parameters()});
  }
}

}  // namespace

std::vector<std::string> DetectedIsolation() {
  if (CgroupsUsable()) return {"cgroups/cpu", "cgroups/mem", "cgroups/pids"};
  return {"posix/usage"};
}

std::vector<std::string> DetectedContainerizers() {
  // runc, and so oci, needs root, and enforces limits through cgroups
  // (which a network namespace's `ip netns exec` view, say, lacks).
  if (::geteuid() == 0 && OnPath("runc") && CgroupsUsable()) return {"native", "oci"};
  return {"native"};
}

std::vector<runtime::ModuleRequest> AgentModuleRequests(const config::AgentConfig& c,
                                                        std::vector<std::string>* errors) {
  std::vector<runtime::ModuleRequest> requests;
  if (c.isolators_size() > 0 && c.isolation_size() > 0) {
    errors->push_back(
        "fields 'isolators' and 'isolation': give one (isolation is Mesos's list of names, "
        "isolators the same with parameters)");
  }
  if (c.isolators_size() > 0) {
    AddConfigured("isolators", ModuleKind::kIsolator, c.isolators(), &requests);
  } else if (c.isolation_size() > 0) {
    AddByName("isolation", "", ModuleKind::kIsolator, {c.isolation().begin(), c.isolation().end()},
              &requests);
  } else {
    AddByName("isolation", " (detected)", ModuleKind::kIsolator, DetectedIsolation(), &requests);
  }

  const bool one = !c.containerizer().name().empty();
  if (one && c.containerizers_size() > 0) {
    errors->push_back("fields 'containerizer' and 'containerizers': give one");
  }
  if (c.containerizers_size() > 0) {
    AddConfigured("containerizers", ModuleKind::kContainerizer, c.containerizers(), &requests);
  } else if (one) {
    requests.push_back({"containerizer", ModuleKind::kContainerizer, c.containerizer().name(),
                        &c.containerizer().parameters()});
  } else {
    AddByName("containerizers", " (detected)", ModuleKind::kContainerizer, DetectedContainerizers(),
              &requests);
  }

  if (!c.transport().name().empty()) {
    requests.push_back(
        {"transport", ModuleKind::kTransport, c.transport().name(), &c.transport().parameters()});
  }
  AddConfigured("authenticators", ModuleKind::kAuthenticator, c.authenticators(), &requests);
  return requests;
}

}  // namespace keel::agent
