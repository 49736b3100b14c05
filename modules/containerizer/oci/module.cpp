// Registration of `oci`: its parameters are read by the containerizer.
#include "modules/containerizer/oci/oci_containerizer.hpp"

KEEL_MODULE_LIBRARY(KEEL_MODULE(kContainerizer, "oci", "0.1.0",
                                "Runs tasks that name a container image, from the agent's image "
                                "store, with runc",
                                keel::modules::oci::OciContainerizer));
