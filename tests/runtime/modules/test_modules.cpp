// One source, several libraries: each KEEL_TEST_* define builds a module
// library that is good or broken in exactly one way, for the loader tests.
#include <stdexcept>

#include "keel/allocator.hpp"
#include "keel/isolator.hpp"

namespace keel::test {

// A complete allocator that offers nothing; enough to prove a module loads,
// gets its parameters and stays callable.
class QuietAllocator : public Allocator {
 public:
  explicit QuietAllocator(ModuleContext& context)
      : label_(context.parameters().Has("label") ? context.parameters().GetString("label") : "") {
#if defined(KEEL_TEST_THROWING)
    throw std::runtime_error("cannot start: the test says so");
#endif
  }
  void AddFramework(const FrameworkId&, const FrameworkSpec&, const std::map<AgentId, Resources>&,
                    bool) override {}
  void UpdateFramework(const FrameworkId&, const FrameworkSpec&) override {}
  void RemoveFramework(const FrameworkId&) override {}
  void ActivateFramework(const FrameworkId&) override {}
  void DeactivateFramework(const FrameworkId&) override {}
  void AddAgent(const AgentId&, const AgentSpec&) override {}
  void UpdateAgent(const AgentId&, const Resources&) override {}
  void RemoveAgent(const AgentId&) override {}
  void ActivateAgent(const AgentId&) override {}
  void DeactivateAgent(const AgentId&) override {}
  void RecoverResources(const FrameworkId&, const AgentId&, const Resources&,
                        std::optional<std::chrono::nanoseconds>) override {}
  void Suppress(const FrameworkId&, const std::set<std::string>&) override {}
  void Revive(const FrameworkId&, const std::set<std::string>&) override {}
  void UpdateWeights(const std::map<std::string, double>&) override {}
  void UpdateQuota(const std::string&, const Quota&) override {}
  // Answers with one allocation naming its label, so a test can see the
  // module's code run and its parameter arrive.
  std::vector<Allocation> Allocate() override { return {{label_, "*", "agent", Resources()}}; }

 private:
  std::string label_;
};

class QuietIsolator : public Isolator {
 public:
  explicit QuietIsolator(ModuleContext&) {}
  Result<LaunchInfo> Prepare(const ContainerId&, const ContainerConfig&) override {
    return LaunchInfo{};
  }
  Status Isolate(const ContainerId&, int) override { return Status::Ok(); }
  Status Update(const ContainerId&, const Resources&) override { return Status::Ok(); }
  Status Usage(const ContainerId&, ResourceStatistics*) override { return Status::Ok(); }
  Status Cleanup(const ContainerId&) override { return Status::Ok(); }
};

}  // namespace keel::test

#if defined(KEEL_TEST_GOOD)
KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "test_good", "1.2.3", "loads fine",
                                keel::test::QuietAllocator),
                    KEEL_MODULE(kIsolator, "test_good_isolator", "1.2.3", "loads fine too",
                                keel::test::QuietIsolator));
#elif defined(KEEL_TEST_THROWING)
KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "test_throwing", "1.0.0", "factory throws",
                                keel::test::QuietAllocator));
#elif defined(KEEL_TEST_KIND_MISMATCH)
// The manifest says allocator; the library says isolator.
KEEL_MODULE_LIBRARY(KEEL_MODULE(kIsolator, "test_kind_mismatch", "1.0.0", "kind differs",
                                keel::test::QuietIsolator));
#elif defined(KEEL_TEST_NAME_MISMATCH)
KEEL_MODULE_LIBRARY(KEEL_MODULE(kAllocator, "test_some_other_name", "1.0.0", "name differs",
                                keel::test::QuietAllocator));
#elif defined(KEEL_TEST_WRONG_ABI)
// Built by hand: the macro always writes the current ABI version.
namespace {
const keel::ModuleDescriptor wrong_abi_entries[] = {KEEL_MODULE(
    kAllocator, "test_wrong_abi", "1.0.0", "from the future", keel::test::QuietAllocator)};
}
extern "C" {
const keel::LibraryDescriptor wrong_abi_library = {keel::kModuleAbiVersion + 41,
                                                   sizeof(keel::ModuleDescriptor),
                                                   KEEL_BUILD_SIGNATURE,
                                                   KEEL_SDK_VERSION,
                                                   1,
                                                   wrong_abi_entries};
}
BOOST_DLL_ALIAS_SECTIONED(wrong_abi_library, keel_module_library, keelmods)
#elif defined(KEEL_TEST_NO_DESCRIPTOR)
extern "C" __attribute__((visibility("default"))) int keel_test_not_a_module() { return 42; }
#else
#error "build with one KEEL_TEST_* define"
#endif
