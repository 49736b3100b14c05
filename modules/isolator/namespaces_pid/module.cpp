// Registration of `namespaces/pid`: it takes no parameters.
#include "modules/isolator/namespaces_pid/pid_namespace_isolator.hpp"

namespace keel::modules {

class PidNamespaceIsolatorModule : public PidNamespaceIsolator {
 public:
  explicit PidNamespaceIsolatorModule(ModuleContext&) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "namespaces/pid", "0.1.0",
                                "Runs each container in its own pid namespace, with its own /proc "
                                "and an init that reaps orphans",
                                keel::modules::PidNamespaceIsolatorModule));
