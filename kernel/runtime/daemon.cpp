#include "kernel/runtime/daemon.hpp"

#include "kernel/runtime/metrics_endpoints.hpp"

#include <glog/logging.h>
#include <systemd/sd-daemon.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <cstdio>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <iostream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/address.hpp"
#include "kernel/runtime/config.hpp"
#include "kernel/runtime/flags.hpp"
#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"

namespace keel::runtime {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

struct Daemon::Impl {
  boost::asio::io_context io{1};
  std::unique_ptr<http::Server> http;
};

Daemon::Daemon(std::string name, std::vector<std::string> module_path, std::string work_dir,
               bool serving)
    : name_(std::move(name)), impl_(std::make_unique<Impl>()) {
  host_.io = serving ? &impl_->io : nullptr;
  host_.metrics = &metrics_;
  host_.work_dir = std::move(work_dir);
  loader_ = std::make_unique<ModuleLoader>(
      ModuleRegistry(std::move(module_path)),
      [this](const Manifest& m, const Parameters& p) { return MakeModuleContext(host_, m, p); });
}

Daemon::~Daemon() {
  // Daemon parts use modules, and modules may hold timers on the io_context:
  // parts go first, then modules, then the io_context. Modules go last
  // loaded first: a containerizer uses the isolators loaded before it.
  parts_.clear();
  while (!modules_.empty()) modules_.pop_back();
  loader_.reset();
}

std::shared_ptr<Module> Daemon::FindModule(ModuleKind kind) const {
  for (const auto& m : modules_) {
    if (m.request.kind == kind) return m.instance;
  }
  return nullptr;
}

std::vector<std::shared_ptr<Module>> Daemon::FindModules(ModuleKind kind) const {
  std::vector<std::shared_ptr<Module>> found;
  for (const auto& m : modules_) {
    if (m.request.kind == kind) found.push_back(m.instance);
  }
  return found;
}

Result<std::shared_ptr<Module>> Daemon::LoadModule(const ModuleRequest& request) {
  auto prepared = loader_->Prepare(request.name, request.kind, *request.parameters, request.where);
  if (!prepared.ok()) return prepared.status();
  auto instance = loader_->Create(*prepared);
  if (!instance.ok()) return Status::Error(request.where + ": " + instance.status().message());
  modules_.push_back(
      {request, prepared->manifest.version, prepared->manifest.library_path, *instance});
  LOG_IF(INFO, host_.io != nullptr)
      << "loaded " << ModuleKindName(request.kind) << " module '" << request.name << "' "
      << prepared->manifest.version << " from " << prepared->manifest.library_path;
  return instance;
}

boost::asio::io_context& Daemon::io() { return impl_->io; }

http::Server& Daemon::http() {
  CHECK(impl_->http) << "Daemon::http() before Listen()";
  return *impl_->http;
}

Status Daemon::Listen(const std::string& ip, uint16_t port) {
  http::ServerOptions options;
  options.address = ip;
  options.port = port;
  impl_->http = std::make_unique<http::Server>(impl_->io, options);
  return Status::Ok();
}

void Daemon::Run(std::function<void()> on_stop) {
  boost::asio::signal_set signals(impl_->io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    LOG(INFO) << "keel-" << name_ << ": received " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
              << ", stopping";
    if (on_stop) on_stop();
    impl_->http->Stop();
    // Whatever is still queued (timers of modules, lingering streams) must not
    // hold the exit back: the promise is a clean exit within 2 seconds.
    impl_->io.stop();
  });
  impl_->io.run();
}

namespace {

const std::vector<std::string> kBooleanFlags = {"check_config", "help", "version"};

std::string StringField(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  return f ? m.GetReflection()->GetString(m, f) : "";
}

uint32_t UintField(const Message& m, const char* name) {
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  return f ? m.GetReflection()->GetUInt32(m, f) : 0;
}

std::vector<std::string> RepeatedStringField(const Message& m, const char* name) {
  std::vector<std::string> out;
  const FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
  if (!f) return out;
  for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
    out.push_back(m.GetReflection()->GetRepeatedString(m, f, i));
  }
  return out;
}

void PrintUsage(const DaemonSpec& spec, const Message& config) {
  std::cout << "Usage: keel-" << spec.name << " [--config=FILE] [--FIELD=VALUE ...]\n"
            << spec.summary << "\n\n"
            << "  --config=FILE      JSON config (built-in defaults otherwise)\n"
            << "  --conf_dir=DIR     drop-ins, merged in name order (default: conf.d/" << spec.name
            << "/ beside --config)\n"
            << "  --check-config     check the config and every module it names; exit 0 or 1\n"
            << "  --listen=IP:PORT   the HTTP address (same as --ip and --port)\n"
            << "  --version, --help\n\nConfig fields (each also a flag):\n";
  const auto* d = config.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) std::cout << "  --" << d->field(i)->name() << "\n";
}

// --listen=IP:PORT is a convenience for the two fields.
Status ExpandListen(const Flag& flag, std::vector<Flag>* out) {
  auto colon = flag.value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == flag.value.size()) {
    return Status::Error("flag --listen=" + flag.value + ": expected IP:PORT");
  }
  out->push_back({"ip", flag.value.substr(0, colon), true});
  out->push_back({"port", flag.value.substr(colon + 1), true});
  return Status::Ok();
}

void ValidateCommon(const Message& config, std::vector<std::string>* errors) {
  const std::string ip = StringField(config, "ip");
  if (!IsIpAddress(ip)) {
    errors->push_back("field 'ip': '" + ip + "' is not an IPv4 or IPv6 address");
  }
  if (UintField(config, "port") > 65535) {
    errors->push_back("field 'port': " + std::to_string(UintField(config, "port")) +
                      " is not a port (0-65535)");
  }
}

// /health answers 200 with an empty body, as Mesos's does, for load balancers
// and systemd checks; /version says what runs, modules included.
void AddCommonRoutes(Daemon& daemon) {
  auto health = [](const http::Request&, http::Responder responder) {
    responder.Respond(http::Response::Text(200, ""));
  };
  daemon.http().Route("GET", "/health", health);
  daemon.http().Route("GET", "/" + daemon.name() + "/health", health);

  auto version = [&daemon](const http::Request&, http::Responder responder) {
    google::protobuf::Struct body;
    auto& fields = *body.mutable_fields();
    // Mesos clients read `version` to pick the API features they use: it is
    // the Mesos release whose HTTP APIs Keel implements.
    fields["version"].set_string_value(kMesosApiVersion);
    fields["keel_version"].set_string_value(KEEL_VERSION);
    fields["daemon"].set_string_value("keel-" + daemon.name());
    fields["module_abi_version"].set_number_value(kModuleAbiVersion);
    auto* modules = fields["modules"].mutable_list_value();
    for (const auto& m : daemon.modules()) {
      auto& entry = *modules->add_values()->mutable_struct_value()->mutable_fields();
      entry["kind"].set_string_value(ModuleKindName(m.request.kind));
      entry["name"].set_string_value(m.request.name);
      entry["version"].set_string_value(m.version);
      entry["library"].set_string_value(m.library);
    }
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(body, &json);
    http::Response response = http::Response::Json(200, json);
    // The master's web UI lists each agent's modules from its page.
    response.headers.emplace_back("Access-Control-Allow-Origin", "*");
    responder.Respond(std::move(response));
  };
  daemon.http().Route("GET", "/version", version);
  daemon.http().Route("GET", "/" + daemon.name() + "/version", version);

  RouteMetrics(daemon);
}

}  // namespace

int DaemonMain(const DaemonSpec& spec, int argc, char** argv) {
  const std::string program = "keel-" + spec.name;
  auto fail = [&](const std::vector<std::string>& errors) {
    for (const auto& e : errors) std::cerr << program << ": " << e << "\n";
    return 1;
  };

  std::unique_ptr<Message> config = spec.new_config();
  // The config's booleans are flags too (`--authenticate_agents`), never
  // followed by a value word.
  std::vector<std::string> booleans = kBooleanFlags;
  for (int i = 0; i < config->GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* f = config->GetDescriptor()->field(i);
    if (f->type() == FieldDescriptor::TYPE_BOOL) booleans.push_back(f->name());
  }
  auto line = ParseCommandLine(argc, argv, booleans);
  if (!line.ok()) return fail({line.status().message()});
  if (!line->words.empty()) return fail({"unexpected argument '" + line->words[0] + "'"});

  ConfigSources sources;
  sources.daemon = spec.name;
  sources.defaults_json = spec.defaults_json;
  bool check_only = false;
  std::vector<std::string> errors;
  for (const auto& flag : line->flags) {
    if (flag.name == "help") {
      PrintUsage(spec, *config);
      return 0;
    } else if (flag.name == "version") {
      std::cout << program << " " << KEEL_VERSION << " (module ABI " << kModuleAbiVersion << ")\n";
      return 0;
    } else if (flag.name == "check_config") {
      check_only = flag.value == "true";
    } else if (flag.name == "config") {
      sources.config_path = flag.value;
    } else if (flag.name == "conf_dir") {
      sources.conf_dir = flag.value;
    } else if (flag.name == "listen") {
      if (auto s = ExpandListen(flag, &sources.flags); !s.ok()) errors.push_back(s.message());
    } else {
      sources.flags.push_back(flag);
    }
  }

  (void)LoadConfig(sources, config.get(), &errors);
  if (errors.empty()) {
    ValidateCommon(*config, &errors);
    spec.validate(*config, &errors);
  }

  const std::string log_dir = StringField(*config, "log_dir");
  if (!check_only) {
    FLAGS_logtostderr = log_dir.empty();
    if (!log_dir.empty()) FLAGS_log_dir = log_dir;
    google::InitGoogleLogging(argv[0]);
  }

  std::vector<std::string> module_path = RepeatedStringField(*config, "module_path");
  if (module_path.empty()) module_path = DefaultModulePath();

  Daemon daemon(spec.name, module_path, check_only ? "" : StringField(*config, "work_dir"),
                !check_only);
  if (errors.empty()) {
    for (const auto& request : spec.modules(*config)) {
      if (auto loaded = daemon.LoadModule(request); !loaded.ok()) {
        errors.push_back(loaded.status().message());
      }
    }
  }

  if (check_only) {
    if (!errors.empty()) return fail(errors);
    std::cout << program << ": config OK";
    if (!sources.config_path.empty()) std::cout << " (" << sources.config_path << ")";
    std::cout << "; modules:";
    for (const auto& m : daemon.modules()) std::cout << " " << m.request.name << "@" << m.version;
    std::cout << "\n";
    return 0;
  }
  if (!errors.empty()) {
    // With a log directory the reasons belong in the log too; otherwise the
    // log is standard error, where fail() prints them.
    if (!log_dir.empty()) {
      for (const auto& e : errors) LOG(ERROR) << e;
    }
    return fail(errors);
  }

  const std::string work_dir = StringField(*config, "work_dir");
  if (!work_dir.empty()) {
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    if (ec) return fail({"field 'work_dir': cannot create " + work_dir + ": " + ec.message()});
  }

  const std::string ip = StringField(*config, "ip");
  const uint32_t port = UintField(*config, "port");
  if (auto s = daemon.Listen(ip, static_cast<uint16_t>(port)); !s.ok()) return fail({s.message()});
  AddCommonRoutes(daemon);
  if (auto s = spec.start(daemon, *config); !s.ok()) return fail({s.message()});
  if (std::string error = daemon.http().Start(); !error.empty()) return fail({error});

  LOG(INFO) << program << " " << KEEL_VERSION << " listening on " << ip << ":"
            << daemon.http().port();
  // systemd's Type=notify: ready once the HTTP port and the core serve (a
  // no-op when not started by systemd).
  const std::string status = "STATUS=serving on " + ip + ":" + std::to_string(daemon.http().port());
  ::sd_notify(0, ("READY=1\n" + status).c_str());
  daemon.Run([&spec] {
    ::sd_notify(0, "STOPPING=1");
    if (spec.stop) spec.stop();
  });
  LOG(INFO) << program << " stopped";
  return 0;
}

}  // namespace keel::runtime
