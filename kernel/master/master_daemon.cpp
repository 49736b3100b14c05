#include "kernel/master/master_daemon.hpp"

#include <glog/logging.h>

#include "keel/allocator.hpp"
#include "keel/config/config.pb.h"
#include "keel/transport.hpp"
#include "kernel/master/transport_service.hpp"

namespace keel::master {

extern const char kDefaultConfigJson[];

namespace {

const config::MasterConfig& AsMaster(const google::protobuf::Message& m) {
  return static_cast<const config::MasterConfig&>(m);
}

std::vector<runtime::ModuleRequest> MasterModules(const google::protobuf::Message& m) {
  const auto& c = AsMaster(m);
  std::vector<runtime::ModuleRequest> requests;
  requests.push_back(
      {"allocator", ModuleKind::kAllocator, c.allocator().name(), &c.allocator().parameters()});
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

void ValidateMaster(const google::protobuf::Message& m, std::vector<std::string>* errors) {
  const auto& c = AsMaster(m);
  if (c.allocator().name().empty()) {
    errors->push_back("field 'allocator.name': the master needs an allocator module");
  }
}

}  // namespace

runtime::DaemonSpec MasterDaemonSpec() {
  runtime::DaemonSpec spec;
  spec.name = "master";
  spec.summary = "The Keel master: pools the agents' resources and offers them to frameworks.";
  spec.defaults_json = kDefaultConfigJson;
  spec.new_config = [] { return std::make_unique<config::MasterConfig>(); };
  spec.validate = ValidateMaster;
  spec.modules = MasterModules;
  spec.start = [](runtime::Daemon& daemon, const google::protobuf::Message& m) {
    const auto& c = AsMaster(m);
    if (auto transport = daemon.FindModule(ModuleKind::kTransport)) {
      auto service = std::make_shared<TransportService>(
          daemon, c.transport().name(), c.transport().parameters(),
          std::static_pointer_cast<Transport>(transport));
      std::string endpoint = c.transport_endpoint();
      if (endpoint.empty()) endpoint = "tcp://" + c.ip() + ":0";
      if (auto s = service->Start(endpoint); !s.ok()) return s;
      daemon.Keep(service);
    }
    return Status::Ok();
  };
  return spec;
}

}  // namespace keel::master
