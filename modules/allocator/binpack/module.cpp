// Registration of `binpack`.
#include "modules/allocator/binpack/bin_packing_allocator.hpp"
#include "modules/allocator/core/metered_allocator.hpp"

KEEL_MODULE_LIBRARY(
    KEEL_MODULE(kAllocator, "binpack", "0.1.0",
                "Bin packing: fills the most-used agents first so idle agents "
                "can be scaled down",
                keel::modules::MeteredAllocator<keel::modules::BinPackingAllocator>));
