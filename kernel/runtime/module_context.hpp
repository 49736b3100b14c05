// The kernel's ModuleContext: binds a module to its daemon's strand, log,
// metrics and work directory.
#pragma once

#include <memory>
#include <string>

#include "keel/module.hpp"
#include "kernel/runtime/manifest.hpp"
#include "kernel/runtime/metrics.hpp"

namespace boost::asio {
class io_context;
}

namespace keel::runtime {

// Where a daemon's modules run. `io` may be null (keelctl, --check-config):
// then Post and RunAfter drop the work, since nothing will ever run it.
struct ModuleHost {
  boost::asio::io_context* io = nullptr;
  Metrics* metrics = nullptr;
  std::string work_dir;  // the daemon's; modules get work_dir/modules/<name>
};

std::unique_ptr<ModuleContext> MakeModuleContext(const ModuleHost& host, const Manifest& manifest,
                                                 const Parameters& parameters);

}  // namespace keel::runtime
