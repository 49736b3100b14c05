// What keel-master and keel-agent share: reading flags and config, loading
// the modules the config names, serving HTTP, and stopping cleanly on
// SIGTERM/SIGINT.
//
// A daemon describes itself with a DaemonSpec and hands control to
// DaemonMain(), which either validates (--check-config) or runs it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "keel/module.hpp"
#include "keel/status.hpp"
#include "kernel/runtime/metrics.hpp"
#include "kernel/runtime/module_context.hpp"

namespace boost::asio {
class io_context;
}
namespace google::protobuf {
class Message;
class Struct;
}  // namespace google::protobuf
namespace keel::http {
class Server;
}

namespace keel::runtime {

// The Apache Mesos release whose HTTP APIs (scheduler, executor, operator,
// endpoints) Keel implements; what /version answers as `version`.
inline constexpr const char* kMesosApiVersion = "1.11.0";

// A module the config asks for. `where` names the config field.
struct ModuleRequest {
  std::string where;  // "allocator", "isolators[1]"
  ModuleKind kind;
  std::string name;
  const google::protobuf::Struct* parameters;
  // Parameters the daemon made itself (a module a flag implies), which
  // `parameters` points into.
  std::shared_ptr<const google::protobuf::Struct> owned_parameters = nullptr;
};

struct LoadedModule {
  ModuleRequest request;
  std::string version;
  std::string library;
  std::shared_ptr<Module> instance;
};

class ModuleLoader;

// The running daemon's shared machinery. Lives for the whole run.
class Daemon {
 public:
  // `work_dir` empty and `serving` false for --check-config: modules then get
  // no strand to post to and no directory.
  Daemon(std::string name, std::vector<std::string> module_path, std::string work_dir,
         bool serving);
  ~Daemon();

  const std::string& name() const { return name_; }
  boost::asio::io_context& io();
  http::Server& http();
  Metrics& metrics() { return metrics_; }
  const std::vector<LoadedModule>& modules() const { return modules_; }
  ModuleLoader& loader() { return *loader_; }
  // The first loaded module of `kind`, or null.
  std::shared_ptr<Module> FindModule(ModuleKind kind) const;
  // Every loaded module of `kind`, in config order.
  std::vector<std::shared_ptr<Module>> FindModules(ModuleKind kind) const;
  const std::string& work_dir() const { return host_.work_dir; }

  // Loads a module after start (the agent learns its transport from the
  // master); the same checks as at start, and it joins modules().
  Result<std::shared_ptr<Module>> LoadModule(const ModuleRequest& request);

  // Keeps a daemon part alive for the whole run (destroyed before modules).
  void Keep(std::shared_ptr<void> part) { parts_.push_back(std::move(part)); }

  // Binds the HTTP server; the error names address and port.
  Status Listen(const std::string& ip, uint16_t port);
  // Runs until SIGTERM or SIGINT, then calls `on_stop` and returns.
  void Run(std::function<void()> on_stop);

 private:
  struct Impl;
  std::string name_;
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
  ModuleHost host_;
  std::unique_ptr<ModuleLoader> loader_;
  std::vector<LoadedModule> modules_;
  std::vector<std::shared_ptr<void>> parts_;
};

struct DaemonSpec {
  std::string name;  // "master" or "agent"
  std::string summary;
  std::string defaults_json;
  std::function<std::unique_ptr<google::protobuf::Message>()> new_config;
  // Daemon-specific checks of the merged config (ports, addresses, resources).
  std::function<void(const google::protobuf::Message&, std::vector<std::string>*)> validate;
  // The modules the config names.
  std::function<std::vector<ModuleRequest>(const google::protobuf::Message&)> modules;
  // Starts the daemon's core; an error refuses the start.
  std::function<Status(Daemon&, const google::protobuf::Message&)> start;
  // Called on SIGTERM/SIGINT before the daemon's io_context stops.
  std::function<void()> stop;
};

// main() of a daemon. Exit codes: 0 clean stop or valid config, 1 a bad
// config or module or a failed start.
int DaemonMain(const DaemonSpec& spec, int argc, char** argv);

}  // namespace keel::runtime
