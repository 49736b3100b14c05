// Keel's containerizers as the agent runs them: modules found through their
// manifests, loaded by the kernel's loader, their callbacks run by an
// io_context that plays the agent's core strand.
#include <google/protobuf/struct.pb.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>

#include "bench/launch/launch_bench.hpp"
#include "keel/containerizer.hpp"
#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"
#include "kernel/runtime/module_registry.hpp"

namespace keel::bench {
namespace {

class LoadedContainerizer {
 public:
  LoadedContainerizer(const std::string& module_dir, const std::string& work_dir,
                      const std::string& containerizer, const std::vector<std::string>& isolators)
      : loader_(runtime::ModuleRegistry({module_dir}),
                [this, work_dir](const runtime::Manifest& m, const Parameters& p) {
                  runtime::ModuleHost host;
                  host.io = &io_;
                  host.work_dir = work_dir;
                  return runtime::MakeModuleContext(host, m, p);
                }) {
    std::vector<Isolator*> raw;
    for (const std::string& name : isolators) {
      auto isolator = loader_.Load<Isolator>(name, ModuleKind::kIsolator,
                                             google::protobuf::Struct(), "isolation");
      if (!isolator.ok()) throw std::runtime_error(isolator.status().message());
      raw.push_back(isolator->get());
      isolators_.push_back(std::move(isolator).value());
    }
    auto loaded = loader_.Load<Containerizer>(containerizer, ModuleKind::kContainerizer,
                                              google::protobuf::Struct(), "containerizer");
    if (!loaded.ok()) throw std::runtime_error(loaded.status().message());
    containerizer_ = std::move(loaded).value();
    if (auto s = containerizer_->Start(raw); !s.ok()) throw std::runtime_error(s.message());
  }
  ~LoadedContainerizer() {
    containerizer_.reset();  // before the isolators it uses
    isolators_.clear();
  }

  // One launch, timed from the Launch() call to the task's write, and to
  // the termination the containerizer reports.
  LaunchTiming Launch(int i, ReadySignal& ready, const std::optional<std::string>& image,
                      const std::string& script) {
    ContainerLaunch launch;
    launch.id = "bench-" + std::to_string(::getpid()) + "-" + std::to_string(next_id_++);
    launch.config.sandbox_dir = ready.dir();
    Result<Resources> resources = Resources::Parse("cpus:0.1;mem:64");
    launch.config.resources = *resources;
    launch.command.value = script;
    launch.image = image;
    bool ended = false;
    std::string ended_how;
    const auto start = Clock::now();
    Status launched = containerizer_->Launch(launch, [&](const ContainerTermination& t) {
      ended = true;
      ended_how = t.message;
    });
    if (!launched.ok()) throw std::runtime_error(launched.message());
    // The strand runs (reaper posts, isolator events) while the task starts.
    Clock::time_point ran{};
    while (ran == Clock::time_point{}) {
      io_.poll();
      io_.restart();
      if (ready.Wait(std::chrono::milliseconds(1))) ran = Clock::now();
      if (ended && ran == Clock::time_point{}) {
        throw std::runtime_error("container ended before its task ran: " + ended_how);
      }
      if (Clock::now() - start > std::chrono::seconds(20)) {
        throw std::runtime_error("the task never ran");
      }
    }
    while (!ended) {
      io_.run_one_for(std::chrono::milliseconds(50));
      io_.restart();
      if (Clock::now() - start > std::chrono::seconds(30)) {
        throw std::runtime_error("the container never ended");
      }
    }
    return LaunchTiming{MillisSince(start, ran), MillisSince(start, Clock::now())};
  }

 private:
  boost::asio::io_context io_;
  uint64_t next_id_ = 0;  // ids stay unique across rounds
  runtime::ModuleLoader loader_;
  std::vector<std::shared_ptr<Isolator>> isolators_;
  std::shared_ptr<Containerizer> containerizer_;
};

// Loaded once per run and kept across rounds: a round measures launches,
// not loading modules and starting their threads.
std::map<std::string, std::unique_ptr<LoadedContainerizer>>& Loaded() {
  static auto* loaded = new std::map<std::string, std::unique_ptr<LoadedContainerizer>>();
  return *loaded;
}

LoadedContainerizer& LoadOnce(const std::string& module_dir, const std::string& work,
                              const std::string& name, const std::vector<std::string>& isolation) {
  auto& slot = Loaded()[name];
  if (!slot)
    slot = std::make_unique<LoadedContainerizer>(module_dir, work + "/agent", name, isolation);
  return *slot;
}

CaseResult Failed(const std::string& name, const std::string& error) {
  CaseResult failed;
  failed.name = name;
  failed.error = error;
  return failed;
}

}  // namespace

void UnloadContainerizers() { Loaded().clear(); }

CaseResult NativeContainerizer(const std::string& module_dir, const std::string& work,
                               const std::vector<std::string>& isolation, int launches) {
  try {
    LoadedContainerizer& native = LoadOnce(module_dir, work, "native", isolation);
    return RunCase("native", work, launches, [&](int i, ReadySignal& ready) {
      return native.Launch(i, ready, std::nullopt, TaskScript(ready.fifo()));
    });
  } catch (const std::exception& e) {
    return Failed("native", e.what());
  }
}

CaseResult OciContainerizer(const std::string& module_dir, const std::string& work,
                            const std::string& image, int launches) {
  try {
    LoadedContainerizer& oci = LoadOnce(module_dir, work, "oci", {});
    return RunCase("oci", work, launches, [&](int i, ReadySignal& ready) {
      return oci.Launch(i, ready, image, "echo > /mnt/mesos/sandbox/ready");
    });
  } catch (const std::exception& e) {
    return Failed("oci", e.what());
  }
}

}  // namespace keel::bench
