#include "kernel/master/master_daemon.hpp"

#include <glog/logging.h>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>

#include "keel/allocator.hpp"
#include "keel/authenticator.hpp"
#include "keel/config/config.pb.h"
#include "keel/transport.hpp"
#include "kernel/http/http_server.hpp"
#include "kernel/http/static_files.hpp"
#include "kernel/master/maintenance_endpoints.hpp"
#include "kernel/master/master.hpp"
#include "kernel/master/master_metrics.hpp"
#include "kernel/master/operator_api.hpp"
#include "kernel/master/registry.hpp"
#include "kernel/master/roles_endpoint.hpp"
#include "kernel/master/scheduler_api.hpp"
#include "kernel/master/state_json.hpp"
#include "kernel/master/transport_service.hpp"
#include "kernel/master/weights_quota_endpoints.hpp"
#include "kernel/runtime/authentication.hpp"
#include "kernel/runtime/config_fields.hpp"
#include "kernel/runtime/http_authentication.hpp"

namespace keel::master {

extern const char kDefaultConfigJson[];

namespace {

const config::MasterConfig& AsMaster(const google::protobuf::Message& m) {
  return static_cast<const config::MasterConfig&>(m);
}

bool AnyAuthentication(const config::MasterConfig& c);

std::vector<runtime::ModuleRequest> MasterModules(const google::protobuf::Message& m) {
  const auto& c = AsMaster(m);
  std::vector<runtime::ModuleRequest> requests;
  requests.push_back(
      {"allocator", ModuleKind::kAllocator, c.allocator().name(), &c.allocator().parameters()});
  if (!c.transport().name().empty()) {
    requests.push_back(
        {"transport", ModuleKind::kTransport, c.transport().name(), &c.transport().parameters()});
  }
  bool has_basic = false;
  for (int i = 0; i < c.authenticators_size(); ++i) {
    requests.push_back({"authenticators[" + std::to_string(i) + "]", ModuleKind::kAuthenticator,
                        c.authenticators(i).name(), &c.authenticators(i).parameters()});
    has_basic = has_basic || c.authenticators(i).name() == "basic";
  }
  // As in Mesos, turning authentication on with a credentials file is enough.
  if (AnyAuthentication(c) && !c.credentials().empty() && !has_basic) {
    auto parameters = std::make_shared<google::protobuf::Struct>();
    (*parameters->mutable_fields())["credentials"].set_string_value(c.credentials());
    requests.push_back(
        {"credentials", ModuleKind::kAuthenticator, "basic", parameters.get(), parameters});
  }
  return requests;
}

// Which realm a request of the master's HTTP API is in, as Mesos draws them:
// the v1 operator API is read-write whatever its call, every GET elsewhere
// read-only. Health and the transport's address stay open: load balancers
// and agents ask them before they could hold credentials.
runtime::HttpRealm MasterRealm(const http::Request& r) {
  const std::string& p = r.path;
  if (p == "/health" || p == "/master/health" || p == "/master/transport") {
    return runtime::HttpRealm::kOpen;
  }
  if (p == "/api/v1/scheduler" || p == "/master/api/v1/scheduler") {
    return runtime::HttpRealm::kScheduler;
  }
  if (p == "/api/v1" || p == "/master/api/v1") return runtime::HttpRealm::kReadWrite;
  if (r.method == "GET" || r.method == "HEAD") return runtime::HttpRealm::kReadOnly;
  return runtime::HttpRealm::kReadWrite;
}

// The effective config as GET_FLAGS lists it: each field's JSON value,
// strings without their quotes.
std::map<std::string, std::string> FlagsOf(const config::MasterConfig& c) {
  google::protobuf::Struct fields;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(c, &json, options);
  (void)google::protobuf::util::JsonStringToMessage(json, &fields);
  std::map<std::string, std::string> flags;
  for (const auto& [name, value] : fields.fields()) {
    if (value.has_string_value()) {
      flags[name] = value.string_value();
    } else {
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(value, &text);
      flags[name] = text;
    }
  }
  return flags;
}

// The configured web UI, else the installed one, else the source tree's.
std::string WebUiDir(const config::MasterConfig& c) {
  if (!c.webui_dir().empty()) return c.webui_dir();
  for (const char* dir : {KEEL_INSTALL_WEBUI_DIR, KEEL_SOURCE_WEBUI_DIR}) {
    std::error_code ec;
    if (std::filesystem::exists(std::string(dir) + "/index.html", ec)) return dir;
  }
  return "";
}

bool AnyAuthentication(const config::MasterConfig& c) {
  return c.authenticate_frameworks() || c.authenticate_http_readonly() ||
         c.authenticate_http_readwrite() || c.authenticate_agents();
}

// The master's options from its config; errors name the field at fault.
MasterOptions OptionsOf(const config::MasterConfig& c, std::vector<std::string>* errors) {
  MasterOptions o;
  o.ip = c.ip();
  o.port = static_cast<uint16_t>(c.port());
  o.hostname = runtime::HostnameOr(c.hostname(), c.ip());
  o.agent_ping_timeout = runtime::DurationField("agent_ping_timeout", c.agent_ping_timeout(),
                                                o.agent_ping_timeout, false, errors);
  o.max_agent_ping_timeouts = c.max_agent_ping_timeouts();
  o.agent_reregister_timeout =
      runtime::DurationField("agent_reregister_timeout", c.agent_reregister_timeout(),
                             o.agent_reregister_timeout, false, errors);
  if (o.max_agent_ping_timeouts == 0) {
    errors->push_back("field 'max_agent_ping_timeouts': must be at least 1");
  }
  if (!c.offer_timeout().empty()) {
    o.offer_timeout = runtime::DurationField("offer_timeout", c.offer_timeout(),
                                             std::chrono::seconds(0), false, errors);
  }
  o.allocation_interval = runtime::DurationField("allocation_interval", c.allocation_interval(),
                                                 o.allocation_interval, false, errors);
  o.heartbeat_interval =
      runtime::DurationField("framework_heartbeat_interval", c.framework_heartbeat_interval(),
                             o.heartbeat_interval, false, errors);
  o.authenticate_agents = c.authenticate_agents();
  if (c.has_max_completed_tasks_per_framework()) {
    o.max_completed_tasks_per_framework = c.max_completed_tasks_per_framework();
  }
  if (c.has_max_completed_frameworks()) o.max_completed_frameworks = c.max_completed_frameworks();
  return o;
}

void ValidateMaster(const google::protobuf::Message& m, std::vector<std::string>* errors) {
  const auto& c = AsMaster(m);
  if (c.allocator().name().empty()) {
    errors->push_back("field 'allocator.name': the master needs an allocator module");
  }
  if (c.transport().name().empty()) {
    errors->push_back("field 'transport.name': the master needs a transport module");
  }
  if (c.work_dir().empty()) {
    errors->push_back("field 'work_dir': the master needs a directory for its registry");
  }
  if (AnyAuthentication(c) && c.credentials().empty() && c.authenticators_size() == 0) {
    errors->push_back(
        "field 'credentials': authentication is on (authenticate_*) but nothing can "
        "authenticate: give a credentials file, or name authenticators in 'authenticators'");
  }
  (void)OptionsOf(c, errors);
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
    // Before anything serves: a registry that cannot be read refuses the start.
    auto registry = Registry::Open(daemon.work_dir());
    if (!registry.ok()) return registry.status();
    auto authentication = runtime::Authentication::OfDaemon(daemon);
    if (auto transport = daemon.FindModule(ModuleKind::kTransport)) {
      auto secured = authentication->SecureTransport(
          *std::static_pointer_cast<Transport>(transport), c.transport().name());
      if (!secured.ok()) return secured;
      if (c.authenticate_agents() && !authentication->secures_transport() &&
          authentication->empty()) {
        return Status::Error(
            "field 'authenticate_agents': no authenticator can authenticate agents (name "
            "'curve', or give 'credentials' for 'basic')");
      }
      auto service = std::make_shared<TransportService>(
          daemon, c.transport().name(), c.transport().parameters(),
          std::static_pointer_cast<Transport>(transport));
      std::string endpoint = c.transport_endpoint();
      if (endpoint.empty()) endpoint = "tcp://" + c.ip() + ":0";
      if (auto s = service->Start(endpoint); !s.ok()) return s;
      daemon.Keep(service);
      std::vector<std::string> errors;
      auto master = std::make_shared<Master>(
          daemon, OptionsOf(c, &errors),
          std::static_pointer_cast<Allocator>(daemon.FindModule(ModuleKind::kAllocator)), *service,
          std::move(registry).value());
      master->SetAuthentication(authentication);
      master->Start();
      runtime::HttpAuthPolicy policy;
      policy.scheduler = c.authenticate_frameworks();
      policy.read_only = c.authenticate_http_readonly();
      policy.read_write = c.authenticate_http_readwrite();
      policy.classify = MasterRealm;
      runtime::GuardHttp(daemon, authentication, std::move(policy));
      RouteSchedulerApi(daemon.http(), master);
      RouteOperatorApi(daemon.http(), master, {FlagsOf(c), &daemon.metrics()});
      RouteWeightsAndQuotaEndpoints(daemon.http(), master);
      RouteStateEndpoints(daemon.http(), master);
      RouteRolesEndpoint(daemon.http(), master);
      RouteMaintenanceEndpoints(daemon.http(), master);
      AddMasterGauges(daemon.metrics(), master);
      const std::string webui = WebUiDir(c);
      if (!webui.empty()) http::ServeStaticFiles(daemon.http(), "/", webui);
      daemon.Keep(master);
    }
    return Status::Ok();
  };
  return spec;
}

}  // namespace keel::master
