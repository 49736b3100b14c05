// Registration of `drf`: manifest parameters in, allocator out.
#include <sstream>
#include <stdexcept>

#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

namespace keel::modules {

namespace {

DrfOptions OptionsFrom(const Parameters& p) {
  DrfOptions options;
  auto minimum = Resources::Parse(p.GetString("min_allocatable_resources"));
  if (!minimum.ok()) {
    throw std::invalid_argument("parameter min_allocatable_resources: " +
                                minimum.status().message());
  }
  options.min_allocatable = *minimum;
  for (const auto& name : p.GetList("fairness_excluded_resource_names")) {
    options.fairness_excluded.insert(name);
  }
  options.filter_gpu_resources = p.GetBool("filter_gpu_resources");
  // "eng=2,ml=3", as Mesos's --weights.
  std::stringstream weights(p.GetString("weights"));
  std::string item;
  while (std::getline(weights, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    double weight = 0;
    try {
      weight = eq == std::string::npos ? 0 : std::stod(item.substr(eq + 1));
    } catch (...) {
    }
    if (eq == 0 || weight <= 0) {
      throw std::invalid_argument("parameter weights: '" + item +
                                  "' is not role=weight with a positive weight");
    }
    options.weights[item.substr(0, eq)] = weight;
  }
  return options;
}

}  // namespace

// Adds the module's metrics around the allocator logic.
class DrfAllocatorModule : public HierarchicalDrfAllocator {
 public:
  explicit DrfAllocatorModule(ModuleContext& context)
      : HierarchicalDrfAllocator(OptionsFrom(context.parameters())), context_(context) {}

  std::vector<Allocation> Allocate() override {
    auto start = std::chrono::steady_clock::now();
    auto allocations = HierarchicalDrfAllocator::Allocate();
    context_.IncrementCounter("allocation_runs");
    context_.IncrementCounter("offers_made", allocations.size());
    context_.SetGauge("allocation_run_ms", std::chrono::duration<double, std::milli>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
    context_.SetGauge("frameworks", static_cast<double>(framework_count()));
    context_.SetGauge("agents", static_cast<double>(agent_count()));
    return allocations;
  }

 private:
  ModuleContext& context_;
};

}  // namespace keel::modules

KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "drf", "0.1.0",
                                "Hierarchical dominant resource fairness with roles, weights and "
                                "quotas",
                                keel::modules::DrfAllocatorModule));
