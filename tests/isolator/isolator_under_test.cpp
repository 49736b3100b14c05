#include "tests/isolator/isolator_under_test.hpp"

#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"

namespace keel::test {

std::vector<std::string> AllIsolators() {
  return {"posix/usage",  "cgroups/cpu",    "cgroups/mem",
          "cgroups/pids", "namespaces/pid", "filesystem/tmp"};
}

std::string IsolatorTestName(const std::string& isolator) {
  std::string name = isolator;
  std::replace(name.begin(), name.end(), '/', '_');
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

IsolatorUnderTest::IsolatorUnderTest(const std::string& name) {
  // The loader refuses module directories writable by group or others; a
  // build directory made under a permissive umask would be one.
  std::filesystem::permissions(
      KEEL_ISOLATOR_MODULE_DIR,
      std::filesystem::perms::group_write | std::filesystem::perms::others_write,
      std::filesystem::perm_options::remove);
  runtime::ModuleHost host;
  host.io = &io_;
  runtime::ModuleLoader loader(runtime::ModuleRegistry({KEEL_ISOLATOR_MODULE_DIR}),
                               [host](const runtime::Manifest& m, const Parameters& p) {
                                 return runtime::MakeModuleContext(host, m, p);
                               });
  auto isolator = loader.Load<Isolator>(name, ModuleKind::kIsolator, google::protobuf::Struct(),
                                        "isolators[0]");
  if (!isolator.ok()) throw std::runtime_error(isolator.status().message());
  isolator_ = std::move(isolator).value();
}

IsolatorUnderTest::~IsolatorUnderTest() {
  // Posted work holds code of the module's library: run it (and so destroy
  // it) while the library is still loaded.
  RunPosted();
  isolator_.reset();
  RunPosted();
}

void IsolatorUnderTest::RunPosted() {
  io_.restart();
  io_.poll();
}

}  // namespace keel::test
