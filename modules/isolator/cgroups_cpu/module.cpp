// Registration of `cgroups/cpu`; its parameters are read by the isolator.
#include "modules/isolator/cgroups_cpu/cgroups_cpu_isolator.hpp"

KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "cgroups/cpu", "0.1.0",
                                "CPU shares (and optionally a CFS quota) from the cpus resource, "
                                "CPU time from the container's cgroup (v1 and v2)",
                                keel::modules::CgroupsCpuIsolator));
