// Registration of `cgroups/mem`; its parameters are read by the isolator.
#include "modules/isolator/cgroups_mem/cgroups_mem_isolator.hpp"

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "cgroups/mem", "0.1.0",
                                "Limits each container's memory to its mem resource, reports OOM "
                                "kills as limitations, measures RSS (v1 and v2)",
                                keel::modules::CgroupsMemIsolator));
