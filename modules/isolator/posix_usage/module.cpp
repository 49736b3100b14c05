// Registration of `posix/usage`: it takes no parameters.
#include "modules/isolator/posix_usage/posix_usage_isolator.hpp"

namespace keel::modules {

class PosixUsageIsolatorModule : public PosixUsageIsolator {
 public:
  explicit PosixUsageIsolatorModule(ModuleContext&) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "posix/usage", "0.1.0",
                                "Measures containers' CPU time, memory and processes from /proc; "
                                "limits nothing",
                                keel::modules::PosixUsageIsolatorModule));
