#include "kernel/agent/agent_daemon.hpp"

#include <glog/logging.h>

#include <unistd.h>

#include <filesystem>
#include "keel/config/config.pb.h"
#include "keel/resources.hpp"

#include "keel/authenticator.hpp"
#include "keel/containerizer.hpp"
#include "kernel/agent/agent.hpp"
#include "kernel/agent/agent_modules.hpp"
#include "kernel/agent/master_link.hpp"
#include "kernel/agent/resource_detection.hpp"
#include "kernel/runtime/address.hpp"
#include "kernel/runtime/authentication.hpp"
#include "kernel/runtime/config_fields.hpp"
#include "kernel/runtime/credential_file.hpp"

namespace keel::agent {

extern const char kDefaultConfigJson[];

namespace {

const config::AgentConfig& AsAgent(const google::protobuf::Message& m) {
  return static_cast<const config::AgentConfig&>(m);
}

std::vector<runtime::ModuleRequest> AgentModules(const google::protobuf::Message& m) {
  std::vector<std::string> conflicts;  // reported by ValidateAgent
  return AgentModuleRequests(AsAgent(m), &conflicts);
}

// Beside the agent's binary (a build tree), else ../libexec/keel/ from it
// (installed: /usr/sbin/keel-agent and /usr/libexec/keel/).
std::string FindDefaultExecutor() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const auto& candidate :
       {exe.parent_path() / "keel-default-executor",
        exe.parent_path() / ".." / "libexec" / "keel" / "keel-default-executor"}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      return std::filesystem::weakly_canonical(candidate, ec).string();
    }
  }
  return "";
}

AgentOptions OptionsOf(const config::AgentConfig& c, std::vector<std::string>* errors) {
  AgentOptions o;
  o.work_dir = c.work_dir();
  o.ip = c.ip();
  o.port = static_cast<uint16_t>(c.port());
  o.hostname = runtime::HostnameOr(c.hostname(), c.ip());
  o.retry_min = runtime::DurationField("status_update_retry_min", c.status_update_retry_min(),
                                       o.retry_min, false, errors);
  o.retry_max = runtime::DurationField("status_update_retry_max", c.status_update_retry_max(),
                                       o.retry_max, false, errors);
  if (o.retry_max < o.retry_min) {
    errors->push_back("field 'status_update_retry_max': must be at least status_update_retry_min");
  }
  // Zero: SIGKILL at once.
  o.kill_grace = runtime::DurationField("kill_grace_period", c.kill_grace_period(), o.kill_grace,
                                        true, errors);
  o.executor_registration_timeout =
      runtime::DurationField("executor_registration_timeout", c.executor_registration_timeout(),
                             o.executor_registration_timeout, false, errors);
  o.executor_reregistration_timeout =
      runtime::DurationField("executor_reregistration_timeout", c.executor_reregistration_timeout(),
                             o.executor_reregistration_timeout, false, errors);
  if (o.executor_reregistration_timeout > std::chrono::seconds(15)) {
    // Mesos's bound: executors of the last run wait for the agent, and
    // frameworks for their tasks' news, this long at most.
    errors->push_back("field 'executor_reregistration_timeout': at most 15s");
  }
  o.executor_shutdown_grace =
      runtime::DurationField("executor_shutdown_grace_period", c.executor_shutdown_grace_period(),
                             o.executor_shutdown_grace, true, errors);
  if (c.recover() == "cleanup") {
    o.recover_cleanup = true;
  } else if (!c.recover().empty() && c.recover() != "reconnect") {
    errors->push_back("field 'recover': '" + c.recover() +
                      "' is neither \"reconnect\" nor \"cleanup\"");
  }
  o.default_executor = c.default_executor().empty() ? FindDefaultExecutor() : c.default_executor();
  if (!c.default_executor().empty() && ::access(o.default_executor.c_str(), X_OK) != 0) {
    errors->push_back("field 'default_executor': " + o.default_executor +
                      " is not an executable file");
  }
  return o;
}

void ValidateAgent(const google::protobuf::Message& m, std::vector<std::string>* errors) {
  const auto& c = AsAgent(m);
  (void)AgentModuleRequests(c, errors);
  (void)OptionsOf(c, errors);
  if (!c.has_master() || c.master().empty()) {
    errors->push_back("field 'master': the agent needs the master's HOST:PORT (--master)");
  } else if (auto hp = runtime::ParseHostPort(c.master()); !hp.ok()) {
    errors->push_back("field 'master': " + hp.status().message());
  }
  if (c.has_resources() && !c.resources().empty()) {
    if (auto r = Resources::Parse(c.resources()); !r.ok()) {
      errors->push_back("field 'resources': " + r.status().message());
    }
  }
}

}  // namespace

runtime::DaemonSpec AgentDaemonSpec() {
  runtime::DaemonSpec spec;
  spec.name = "agent";
  spec.summary = "The Keel agent: offers this machine's resources and runs tasks in containers.";
  spec.defaults_json = kDefaultConfigJson;
  spec.new_config = [] { return std::make_unique<config::AgentConfig>(); };
  spec.validate = ValidateAgent;
  spec.modules = AgentModules;
  spec.start = [](runtime::Daemon& daemon, const google::protobuf::Message& m) {
    const auto& c = AsAgent(m);
    auto master = runtime::ParseHostPort(c.master());
    if (!master.ok()) return master.status();
    if (c.work_dir().empty()) {
      return Status::Error("field 'work_dir': the agent needs a work directory (--work_dir)");
    }
    std::vector<std::string> errors;
    AgentOptions options = OptionsOf(c, &errors);
    auto resources = AgentResources(c.work_dir(), c.resources());
    if (!resources.ok()) return Status::Error("field 'resources': " + resources.status().message());
    options.resources = *resources;

    std::vector<Isolator*> isolators;
    for (const auto& loaded : daemon.modules()) {
      if (loaded.request.kind == ModuleKind::kIsolator) {
        isolators.push_back(static_cast<Isolator*>(loaded.instance.get()));
      }
    }
    std::vector<NamedContainerizer> containerizers;
    for (const auto& loaded : daemon.modules()) {
      if (loaded.request.kind != ModuleKind::kContainerizer) continue;
      auto containerizer = std::static_pointer_cast<Containerizer>(loaded.instance);
      if (auto s = containerizer->Start(isolators); !s.ok()) {
        return Status::Error(loaded.request.where + " '" + loaded.request.name +
                             "': " + s.message());
      }
      containerizers.push_back({loaded.request.name, std::move(containerizer)});
    }
    std::string isolation, containerized;
    for (const auto& loaded : daemon.modules()) {
      std::string* list = loaded.request.kind == ModuleKind::kIsolator        ? &isolation
                          : loaded.request.kind == ModuleKind::kContainerizer ? &containerized
                                                                              : nullptr;
      if (list) *list += (list->empty() ? "" : ",") + loaded.request.name;
    }
    LOG(INFO) << "containerizers: " << containerized
              << "; isolation: " << (isolation.empty() ? "none" : isolation);

    // The config outlives the daemon's run (DaemonMain owns it).
    if (!c.credential().empty()) {
      auto credential = runtime::ReadCredentialFile(c.credential());
      if (!credential.ok()) {
        return Status::Error("field 'credential': " + credential.status().message());
      }
      options.principal = credential->principal();
      options.secret = credential->secret();
    }
    auto authentication = runtime::Authentication::OfDaemon(daemon);
    auto link = std::make_shared<MasterLink>(daemon, *master, c.transport().name(),
                                             &c.transport().parameters());
    link->SetAuthentication(authentication);
    auto agent = std::make_shared<Agent>(daemon, options, link, std::move(containerizers));
    if (auto s = agent->Start(); !s.ok()) return s;
    link->Start();
    daemon.Keep(link);
    daemon.Keep(agent);
    LOG(INFO) << "agent offers " << options.resources.ToString();
    return Status::Ok();
  };
  return spec;
}

}  // namespace keel::agent
