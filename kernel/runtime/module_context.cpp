#include "kernel/runtime/module_context.hpp"

#include <glog/logging.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>

namespace keel::runtime {

namespace {

class AsioTimer : public TimerHandle, public std::enable_shared_from_this<AsioTimer> {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer(io) {}
  void Cancel() override {
    // Cancel must be safe from any thread; the timer belongs to the io thread.
    boost::asio::post(timer.get_executor(), [self = shared_from_this()] { self->timer.cancel(); });
  }
  boost::asio::steady_timer timer;
};

class KernelModuleContext : public ModuleContext {
 public:
  KernelModuleContext(const ModuleHost& host, const Manifest& manifest, Parameters parameters)
      : host_(host),
        name_(manifest.name),
        metric_prefix_(std::string(ModuleKindName(manifest.kind)) + "/" + manifest.name + "/"),
        parameters_(std::move(parameters)) {}

  const std::string& module_name() const override { return name_; }
  const Parameters& parameters() const override { return parameters_; }

  std::string work_dir() const override {
    if (host_.work_dir.empty()) return "";
    std::string dir = host_.work_dir + "/modules/" + name_;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) LOG(WARNING) << "module " << name_ << ": cannot create " << dir << ": " << ec.message();
    return dir;
  }

  void Log(LogLevel level, std::string_view message) const override {
    switch (level) {
      case LogLevel::kInfo:
        LOG(INFO) << "[" << name_ << "] " << message;
        break;
      case LogLevel::kWarning:
        LOG(WARNING) << "[" << name_ << "] " << message;
        break;
      case LogLevel::kError:
        LOG(ERROR) << "[" << name_ << "] " << message;
        break;
    }
  }

  void Post(std::function<void()> fn) override {
    if (host_.io == nullptr) return;
    boost::asio::post(*host_.io, std::move(fn));
  }

  std::shared_ptr<TimerHandle> RunAfter(std::chrono::nanoseconds delay,
                                        std::function<void()> fn) override {
    if (host_.io == nullptr) return nullptr;
    auto handle = std::make_shared<AsioTimer>(*host_.io);
    handle->timer.expires_after(delay);
    handle->timer.async_wait([handle, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
    return handle;
  }

  void IncrementCounter(std::string_view name, uint64_t by) override {
    if (host_.metrics) host_.metrics->Increment(metric_prefix_ + std::string(name), by);
  }
  void SetGauge(std::string_view name, double value) override {
    if (host_.metrics) host_.metrics->Set(metric_prefix_ + std::string(name), value);
  }

 private:
  ModuleHost host_;
  std::string name_;
  std::string metric_prefix_;
  Parameters parameters_;
};

}  // namespace

std::unique_ptr<ModuleContext> MakeModuleContext(const ModuleHost& host, const Manifest& manifest,
                                                 const Parameters& parameters) {
  return std::make_unique<KernelModuleContext>(host, manifest, parameters);
}

}  // namespace keel::runtime
