#include "tests/support/transport_side.hpp"

#include <google/protobuf/struct.pb.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>

#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"

namespace keel::test {

void Recorder::OnMessage(const PeerId& peer, TransportMessage message) {
  if (on_message) {
    on_message(peer, message);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  messages_.emplace_back(peer, std::move(message));
  cv_.notify_all();
}

void Recorder::OnPeerConnected(const PeerId& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  connected_.push_back(peer);
  cv_.notify_all();
}

void Recorder::OnPeerLost(const PeerId& peer) {
  std::lock_guard<std::mutex> lock(mu_);
  lost_.push_back(peer);
  cv_.notify_all();
}

size_t Recorder::message_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_.size();
}

struct TransportSide::Io {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
};

TransportSide::TransportSide(const std::string& module, const std::string& module_dir,
                             const std::string& parameters_json)
    : io_(std::make_unique<Io>()) {
  runtime::ModuleHost host{&io_->io, &metrics_, ""};
  runtime::ModuleLoader loader(runtime::ModuleRegistry({module_dir}),
                               [&host](const runtime::Manifest& m, const Parameters& p) {
                                 return runtime::MakeModuleContext(host, m, p);
                               });
  google::protobuf::Struct params;
  if (auto s = runtime::ParseJsonInto(parameters_json, "parameters", &params); !s.ok()) {
    throw std::runtime_error(s.message());
  }
  auto loaded = loader.Load<Transport>(module, ModuleKind::kTransport, params, "transport");
  if (!loaded.ok()) throw std::runtime_error(loaded.status().message());
  transport_ = std::move(loaded).value();
  thread_ = std::thread([this] { io_->io.run(); });
  auto started = OnCore([&] { return transport_->Start(&recorder_); });
  if (!started.ok()) throw std::runtime_error(started.message());
}

TransportSide::~TransportSide() {
  OnCore([&] {
    transport_->Stop();
    return 0;
  });
  transport_.reset();
  io_->guard.reset();
  io_->io.stop();
  thread_.join();
}

void TransportSide::Post(std::function<void()> fn) { boost::asio::post(io_->io, std::move(fn)); }

std::vector<std::string> TransportModules(const std::string& module_dir) {
  std::vector<std::string> names;
  for (const auto& m : runtime::ModuleRegistry({module_dir}).List().manifests) {
    if (m.kind == ModuleKind::kTransport) names.push_back(m.name);
  }
  return names;
}

}  // namespace keel::test
