// Registration of `cgroups/pids`; its parameters are read by the isolator.
#include "modules/isolator/cgroups_pids/cgroups_pids_isolator.hpp"

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "cgroups/pids", "0.1.0",
                                "Caps the number of processes and threads of each container "
                                "(pids.max) and counts them (v1 and v2)",
                                keel::modules::CgroupsPidsIsolator));
