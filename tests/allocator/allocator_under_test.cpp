#include "tests/allocator/allocator_under_test.hpp"

#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"
#include "modules/allocator/binpack/bin_packing_allocator.hpp"
#include "modules/allocator/drf/hierarchical_drf_allocator.hpp"

namespace keel::test {

namespace {

// The template's module as a daemon loads it: found through its manifest in
// the module path, checked, and given a context whose parameters are the
// manifest's defaults.
std::shared_ptr<Allocator> LoadModule(const std::string& name) {
  // The loader refuses module directories writable by group or others; a
  // build directory made under a permissive umask would be one.
  std::filesystem::permissions(
      KEEL_ALLOCATOR_MODULE_DIR,
      std::filesystem::perms::group_write | std::filesystem::perms::others_write,
      std::filesystem::perm_options::remove);
  runtime::ModuleHost host;
  runtime::ModuleLoader loader(runtime::ModuleRegistry({KEEL_ALLOCATOR_MODULE_DIR}),
                               [host](const runtime::Manifest& m, const Parameters& p) {
                                 return runtime::MakeModuleContext(host, m, p);
                               });
  auto allocator =
      loader.Load<Allocator>(name, ModuleKind::kAllocator, google::protobuf::Struct(), "allocator");
  if (!allocator.ok()) throw std::runtime_error(allocator.status().message());
  return std::move(allocator).value();
}

}  // namespace

std::vector<std::string> AllAllocators() { return {"drf", "binpack", "round-robin"}; }

std::vector<std::string> BuiltInAllocators() { return {"drf", "binpack"}; }

std::string AllocatorTestName(const std::string& allocator) {
  std::string name = allocator;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

AllocatorUnderTest::AllocatorUnderTest(const std::string& name) {
  auto clock = [this] { return fake_now_; };
  if (name == "drf") {
    allocator_ =
        std::make_shared<modules::HierarchicalDrfAllocator>(modules::AllocatorOptions{}, clock);
  } else if (name == "binpack") {
    allocator_ = std::make_shared<modules::BinPackingAllocator>(modules::AllocatorOptions{}, clock);
  } else {
    allocator_ = LoadModule(name);
    real_clock_ = true;
  }
}

AllocatorUnderTest::~AllocatorUnderTest() = default;

std::chrono::steady_clock::time_point AllocatorUnderTest::Now() const {
  return real_clock_ ? std::chrono::steady_clock::now() : fake_now_;
}

void AllocatorUnderTest::Advance(std::chrono::nanoseconds by) {
  if (real_clock_) {
    std::this_thread::sleep_for(by);
  } else {
    fake_now_ += by;
  }
}

}  // namespace keel::test
