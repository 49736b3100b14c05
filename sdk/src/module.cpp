#include "keel/module.hpp"

namespace keel {

namespace {
struct KindName {
  ModuleKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {ModuleKind::kAllocator, "allocator"},         {ModuleKind::kIsolator, "isolator"},
    {ModuleKind::kContainerizer, "containerizer"}, {ModuleKind::kAuthenticator, "authenticator"},
    {ModuleKind::kTransport, "transport"},
};
}  // namespace

const char* ModuleKindName(ModuleKind kind) {
  for (const auto& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}

bool ParseModuleKind(std::string_view name, ModuleKind* kind) {
  for (const auto& entry : kKindNames) {
    if (name == entry.name) {
      *kind = entry.kind;
      return true;
    }
  }
  return false;
}

// Compiled into the SDK library with the same macro modules expand, so a
// module and the kernel that loads it compare like with like.
const char* BuildSignature() { return KEEL_BUILD_SIGNATURE; }

}  // namespace keel
