// Registration of `drf`.
#include "modules/allocator/core/metered_allocator.hpp"
#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

KEEL_MODULE_LIBRARY(
    KEEL_MODULE(kAllocator, "drf", "0.1.0",
                "Hierarchical dominant resource fairness with roles, weights and "
                "quotas",
                keel::modules::MeteredAllocator<keel::modules::HierarchicalDrfAllocator>));
