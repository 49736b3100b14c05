// Registration of `filesystem/tmp`: it takes no parameters.
#include "modules/isolator/filesystem_tmp/private_tmp_isolator.hpp"

namespace keel::modules {

class PrivateTmpIsolatorModule : public PrivateTmpIsolator {
 public:
  explicit PrivateTmpIsolatorModule(ModuleContext&) {}
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "filesystem/tmp", "0.1.0",
                                "Gives each container its sandbox's tmp/ as a private /tmp",
                                keel::modules::PrivateTmpIsolatorModule));
