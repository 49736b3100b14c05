#include "kernel/agent/agent_daemon.hpp"

#include "keel/config/config.pb.h"
#include "keel/resources.hpp"
#include "kernel/agent/master_link.hpp"
#include "kernel/runtime/address.hpp"

namespace keel::agent {

extern const char kDefaultConfigJson[];

namespace {

const config::AgentConfig& AsAgent(const google::protobuf::Message& m) {
  return static_cast<const config::AgentConfig&>(m);
}

std::vector<runtime::ModuleRequest> AgentModules(const google::protobuf::Message& m) {
  const auto& c = AsAgent(m);
  std::vector<runtime::ModuleRequest> requests;
  for (int i = 0; i < c.isolators_size(); ++i) {
    requests.push_back({"isolators[" + std::to_string(i) + "]", ModuleKind::kIsolator,
                        c.isolators(i).name(), &c.isolators(i).parameters()});
  }
  if (!c.containerizer().name().empty()) {
    requests.push_back({"containerizer", ModuleKind::kContainerizer, c.containerizer().name(),
                        &c.containerizer().parameters()});
  }
  if (!c.transport().name().empty()) {
    requests.push_back(
        {"transport", ModuleKind::kTransport, c.transport().name(), &c.transport().parameters()});
  }
  for (int i = 0; i < c.authenticators_size(); ++i) {
    requests.push_back({"authenticators[" + std::to_string(i) + "]", ModuleKind::kAuthenticator,
                        c.authenticators(i).name(), &c.authenticators(i).parameters()});
  }
  return requests;
}

void ValidateAgent(const google::protobuf::Message& m, std::vector<std::string>* errors) {
  const auto& c = AsAgent(m);
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
    // The config outlives the daemon's run (DaemonMain owns it).
    auto link = std::make_shared<MasterLink>(daemon, *master, c.transport().name(),
                                             &c.transport().parameters());
    link->Start();
    daemon.Keep(link);
    return Status::Ok();
  };
  return spec;
}

}  // namespace keel::agent
