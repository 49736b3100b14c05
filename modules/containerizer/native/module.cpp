// Registration of `native`: it takes no parameters.
#include "modules/containerizer/native/native_containerizer.hpp"

KEEL_MODULE_LIBRARY(KEEL_MODULE(kContainerizer, "native", "0.1.0",
                                "Runs tasks as process groups forked in their sandbox, isolated "
                                "by the configured isolators",
                                keel::modules::NativeContainerizer));
