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

// A module the config asks for. `where` names the config field.
struct ModuleRequest {
  std::string where;  // "allocator", "isolators[1]"
  ModuleKind kind;
  std::string name;
  const google::protobuf::Struct* parameters;
};

struct LoadedModule {
  ModuleRequest request;
  std::string version;
  std::string library;
  std::shared_ptr<Module> instance;
};

// The running daemon's shared machinery. Lives for the whole run.
class Daemon {
 public:
  explicit Daemon(std::string name);
  ~Daemon();

  const std::string& name() const { return name_; }
  boost::asio::io_context& io();
  http::Server& http();
  Metrics& metrics() { return metrics_; }
  const std::vector<LoadedModule>& modules() const { return modules_; }
  void set_modules(std::vector<LoadedModule> modules) { modules_ = std::move(modules); }

  // Binds the HTTP server; the error names address and port.
  Status Listen(const std::string& ip, uint16_t port);
  // Runs until SIGTERM or SIGINT, then calls `on_stop` and returns.
  void Run(std::function<void()> on_stop);

 private:
  struct Impl;
  std::string name_;
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
  std::vector<LoadedModule> modules_;
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
