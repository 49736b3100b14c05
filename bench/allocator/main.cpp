// keel-bench-allocator: the time of one allocation step of each built-in
// allocator, for {1,000, 10,000, 50,000} agents x {10, 100, 1,000}
// frameworks, every framework wanting more than exists:
//   full    every agent free (the first step after the agents joined);
//   steady  1% of the agents' resources recovered since the last step.
// And the allocator's heap per agent. Google Benchmark times the steps; a
// table and the headline keys follow its output.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "modules/allocator/binpack/bin_packing_allocator.hpp"
#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

namespace {

using keel::Allocation;
using keel::Resources;

const Resources& AgentTotal() {
  static const Resources total =
      *Resources::Parse("cpus:16;mem:65536;disk:400000;ports:[31000-32000]");
  return total;
}

std::unique_ptr<keel::modules::BookkeepingAllocator> Make(const std::string& name) {
  if (name == "drf") {
    return std::make_unique<keel::modules::HierarchicalDrfAllocator>(
        keel::modules::AllocatorOptions{});
  }
  return std::make_unique<keel::modules::BinPackingAllocator>(keel::modules::AllocatorOptions{});
}

// Frameworks spread over ten roles, two of them nested, so the role tree is
// walked as in a shared cluster.
std::string RoleOf(int framework) {
  static const char* roles[] = {"*",     "eng",     "eng/ml", "eng/web", "ops",
                                "batch", "batch/a", "batch/b", "data",   "research"};
  return roles[framework % 10];
}

struct Cluster {
  std::unique_ptr<keel::modules::BookkeepingAllocator> allocator;
  std::vector<Allocation> held;  // what the frameworks hold, to give back

  Cluster(const std::string& name, int agents, int frameworks) : allocator(Make(name)) {
    for (int f = 0; f < frameworks; ++f) {
      keel::FrameworkSpec spec;
      spec.roles = {RoleOf(f)};
      allocator->AddFramework("framework-" + std::to_string(f), spec, {}, true);
    }
    for (int a = 0; a < agents; ++a) {
      keel::AgentSpec spec;
      spec.hostname = "host-" + std::to_string(a);
      spec.total = AgentTotal();
      allocator->AddAgent("agent-" + std::to_string(a), spec);
    }
  }

  void RecoverAll() {
    for (const auto& a : held) {
      allocator->RecoverResources(a.framework, a.agent, a.resources, std::nullopt);
    }
    held.clear();
  }

  // Gives back every hundredth allocation (1% of the resources).
  void RecoverOnePercent() {
    std::vector<Allocation> kept;
    kept.reserve(held.size());
    for (size_t i = 0; i < held.size(); ++i) {
      if (i % 100 == 0) {
        allocator->RecoverResources(held[i].framework, held[i].agent, held[i].resources,
                                    std::nullopt);
      } else {
        kept.push_back(std::move(held[i]));
      }
    }
    held = std::move(kept);
  }

  size_t Step() {
    auto step = allocator->Allocate();
    size_t n = step.size();
    for (auto& a : step) held.push_back(std::move(a));
    return n;
  }
};

// Cluster setups are costly at 50,000 agents: each (allocator, size) is
// built once and shared by its benchmarks.
Cluster& ClusterFor(const std::string& name, int agents, int frameworks) {
  static std::map<std::tuple<std::string, int, int>, std::unique_ptr<Cluster>> clusters;
  auto& c = clusters[{name, agents, frameworks}];
  if (!c) c = std::make_unique<Cluster>(name, agents, frameworks);
  return *c;
}

void FullStep(benchmark::State& state, const std::string& name) {
  Cluster& c = ClusterFor(name, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  size_t offers = 0;
  for (auto _ : state) {
    state.PauseTiming();
    c.RecoverAll();
    state.ResumeTiming();
    offers = c.Step();
  }
  state.counters["offers"] = static_cast<double>(offers);
}

void SteadyStep(benchmark::State& state, const std::string& name) {
  Cluster& c = ClusterFor(name, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  // binpack serves each framework role once per step: fill the cluster first.
  while (c.Step() > 0) {
  }
  size_t offers = 0;
  for (auto _ : state) {
    state.PauseTiming();
    c.RecoverOnePercent();
    state.ResumeTiming();
    offers = c.Step();
  }
  state.counters["offers"] = static_cast<double>(offers);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int agents : {1000, 10000, 50000}) {
    for (int frameworks : {10, 100, 1000}) b->Args({agents, frameworks});
  }
  b->Unit(benchmark::kMillisecond)->Iterations(5);
}

size_t HeapInUse() { return mallinfo2().uordblks; }

// Heap per agent with the cluster fully allocated to 1,000 frameworks.
double BytesPerAgent(const std::string& name, int agents) {
  malloc_trim(0);
  const size_t before = HeapInUse();
  double per_agent = 0;
  {
    Cluster c(name, agents, 1000);
    while (c.Step() > 0) {
    }
    // The bench's own record of the offers is not the allocator's.
    size_t held_bytes = 0;
    for (const auto& a : c.held) {
      held_bytes += sizeof(Allocation) + a.framework.capacity() + a.agent.capacity() +
                    a.role.capacity() + a.resources.entries().capacity() * sizeof(keel::Resource);
    }
    per_agent = (static_cast<double>(HeapInUse() - before) - static_cast<double>(held_bytes)) /
                agents;
  }
  return per_agent;
}

}  // namespace

int main(int argc, char** argv) {
  for (const char* name : {"drf", "binpack"}) {
    benchmark::RegisterBenchmark((std::string("full/") + name).c_str(), FullStep, name)
        ->Apply(Sizes);
    benchmark::RegisterBenchmark((std::string("steady/") + name).c_str(), SteadyStep, name)
        ->Apply(Sizes);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  // Collect the figures for the table as they are reported.
  class Collector : public benchmark::ConsoleReporter {
   public:
    void ReportRuns(const std::vector<Run>& runs) override {
      ConsoleReporter::ReportRuns(runs);
      for (const auto& run : runs) {
        ms[run.benchmark_name()] = run.GetAdjustedRealTime();
      }
    }
    std::map<std::string, double> ms;
  } collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  std::printf("\nms per allocation step (mean of 5)\n");
  std::printf("%-8s %-8s %8s %11s %12s %12s\n", "step", "policy", "agents", "frameworks",
              "ms", "ms/1k agents");
  for (const char* kind : {"full", "steady"}) {
    for (const char* name : {"drf", "binpack"}) {
      for (int agents : {1000, 10000, 50000}) {
        for (int frameworks : {10, 100, 1000}) {
          auto it = collector.ms.find(std::string(kind) + "/" + name + "/" +
                                      std::to_string(agents) + "/" + std::to_string(frameworks) +
                                      "/iterations:5");
          if (it == collector.ms.end()) continue;
          std::printf("%-8s %-8s %8d %11d %12.2f %12.3f\n", kind, name, agents, frameworks,
                      it->second, it->second / (agents / 1000.0));
        }
      }
    }
  }
  auto get = [&](const std::string& key) {
    auto it = collector.ms.find(key + "/iterations:5");
    return it == collector.ms.end() ? -1.0 : it->second;
  };
  const double per_agent = BytesPerAgent("drf", 10000);
  std::printf("\nheap per agent (drf, 10,000 agents fully allocated to 1,000 frameworks): %.0f B\n",
              per_agent);
  std::printf("targets: 10,000 x 1,000 <= 50 ms; 50,000 x 1,000 <= 300 ms; linear in agents\n");
  std::printf("step_ms_10000x1000=%.2f\n", get("full/drf/10000/1000"));
  std::printf("step_ms_50000x1000=%.2f\n", get("full/drf/50000/1000"));
  std::printf("steady_step_ms_50000x1000=%.2f\n", get("steady/drf/50000/1000"));
  std::printf("binpack_step_ms_50000x1000=%.2f\n", get("full/binpack/50000/1000"));
  std::printf("bytes_per_agent=%.0f\n", per_agent);
  return 0;
}
