// The properties that make `drf` dominant resource fairness, with frameworks
// that run tasks: the DRF paper's example, weights, quota guarantees and the
// role hierarchy.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"
#include "tests/support/allocator_builders.hpp"

namespace keel::modules {
namespace {

using namespace std::chrono_literals;
using test::R;
using test::Spec;

// A framework whose tasks all have one shape. Like the DRF paper's
// schedulers it launches one task per offer and gives the rest back, so that
// the allocator's choice, not a framework's greed, decides the split; an
// offer too small for a task is declined for good.
struct TaskFramework {
  Resources task;
  int launched = 0;
};

class DrfPropertiesTest : public ::testing::Test {
 protected:
  DrfPropertiesTest() : allocator_(AllocatorOptions{}, [this] { return now_; }) {}

  void AddFramework(const FrameworkId& id, const std::string& role, const std::string& task) {
    allocator_.AddFramework(id, Spec({role}), {}, true);
    frameworks_[id].task = R(task);
  }

  // Allocation steps, each offer used for one task, until nobody can launch
  // another one.
  void RunTasks() {
    for (int step = 0; step < 10'000; ++step) {
      auto offers = allocator_.Allocate();
      if (offers.empty()) return;
      for (const auto& o : offers) {
        TaskFramework& f = frameworks_.at(o.framework);
        if (o.resources.Contains(f.task)) {
          ++f.launched;
          Resources rest = o.resources - f.task;
          if (!rest.empty()) allocator_.RecoverResources(o.framework, o.agent, rest, std::nullopt);
        } else {
          allocator_.RecoverResources(o.framework, o.agent, o.resources, 1h);
        }
      }
    }
    FAIL() << "frameworks were still launching tasks after 10,000 steps";
  }

  int Launched(const FrameworkId& id) { return frameworks_.at(id).launched; }

  // Largest fraction of any of the cluster's resources the framework's
  // tasks use.
  double DominantShare(const FrameworkId& id, const Resources& cluster) {
    const TaskFramework& f = frameworks_.at(id);
    double share = 0;
    for (const auto& entry : cluster.entries()) {
      const double used = f.task.GetScalar(entry.name).value() * f.launched;
      share = std::max(share, used / entry.scalar.value());
    }
    return share;
  }

  std::chrono::steady_clock::time_point now_{};
  HierarchicalDrfAllocator allocator_;
  std::map<FrameworkId, TaskFramework> frameworks_;
};

TEST_F(DrfPropertiesTest, PaperExample) {
  // Ghodsi et al., "Dominant Resource Fairness", section 4: 9 CPUs and 18 GB;
  // A's tasks need <1 CPU, 4 GB> (memory-dominant), B's <3 CPUs, 1 GB>
  // (CPU-dominant). DRF equalises their dominant shares at 2/3: A runs 3
  // tasks, B 2. (Serving A greedily would give A 4 and B 1.)
  allocator_.AddAgent("a1", test::Agent("cpus:9;mem:18432"));
  AddFramework("A", "*", "cpus:1;mem:4096");
  AddFramework("B", "*", "cpus:3;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("A"), 3);
  EXPECT_EQ(Launched("B"), 2);
  const Resources cluster = R("cpus:9;mem:18432");
  EXPECT_DOUBLE_EQ(DominantShare("A", cluster), 2.0 / 3);
  EXPECT_DOUBLE_EQ(DominantShare("B", cluster), 2.0 / 3);
}

TEST_F(DrfPropertiesTest, WeightsOfTwoToOneGiveDominantSharesOfTwoToOne) {
  // 100 agents that fit one task each; the roles' tasks have different
  // dominant resources, so what is weighted is the dominant share.
  test::AddAgents(allocator_, 100, "cpus:1;mem:1024");
  allocator_.UpdateWeights({{"heavy", 2.0}, {"light", 1.0}});
  AddFramework("h", "heavy", "cpus:1;mem:512");     // CPU-dominant
  AddFramework("l", "light", "cpus:0.5;mem:1024");  // memory-dominant
  RunTasks();
  const Resources cluster = R("cpus:100;mem:102400");
  EXPECT_EQ(Launched("h") + Launched("l"), 100);
  EXPECT_NEAR(DominantShare("h", cluster) / DominantShare("l", cluster), 2.0, 0.1)
      << "heavy ran " << Launched("h") << " tasks, light " << Launched("l");
}

TEST_F(DrfPropertiesTest, QuotaGuaranteeIsMetBeforeOthersFairShare) {
  // Fair shares alone would split the 10 agents 5 and 5.
  test::AddAgents(allocator_, 10, "cpus:1;mem:1024");
  allocator_.UpdateQuota("ops", Quota{R("cpus:8;mem:8192"), Resources()});
  AddFramework("eng", "eng", "cpus:1;mem:1024");
  AddFramework("ops", "ops", "cpus:1;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("ops"), 8);
  EXPECT_EQ(Launched("eng"), 2);
}

TEST_F(DrfPropertiesTest, QuotaGuaranteeIsKeptForARoleBeforeItsFrameworkArrives) {
  test::AddAgents(allocator_, 10, "cpus:1;mem:1024");
  allocator_.UpdateQuota("ops", Quota{R("cpus:8;mem:8192"), Resources()});
  AddFramework("eng", "eng", "cpus:1;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("eng"), 2);
  AddFramework("ops", "ops", "cpus:1;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("ops"), 8);
}

TEST_F(DrfPropertiesTest, HierarchicalRolesShareByTheirParentFirst) {
  // a's subtree and b share the cluster equally, x and y split a's half
  // (flat DRF would give each framework a third).
  test::AddAgents(allocator_, 12, "cpus:1;mem:1024");
  AddFramework("x", "a/x", "cpus:1;mem:1024");
  AddFramework("y", "a/y", "cpus:1;mem:1024");
  AddFramework("b", "b", "cpus:1;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("b"), 6);
  EXPECT_EQ(Launched("x"), 3);
  EXPECT_EQ(Launched("y"), 3);
}

TEST_F(DrfPropertiesTest, ARoleWithFrameworksAndChildrenSharesWithItsChildren) {
  // Frameworks of "a" itself compete with a's children inside a's half.
  test::AddAgents(allocator_, 12, "cpus:1;mem:1024");
  AddFramework("a", "a", "cpus:1;mem:1024");
  AddFramework("x", "a/x", "cpus:1;mem:1024");
  AddFramework("b", "b", "cpus:1;mem:1024");
  RunTasks();
  EXPECT_EQ(Launched("b"), 6);
  EXPECT_EQ(Launched("a"), 3);
  EXPECT_EQ(Launched("x"), 3);
}

}  // namespace
}  // namespace keel::modules
