// The module contract: how a shared library tells a Keel daemon what it offers.
//
// A module library exports exactly one symbol, `keel_module_library` (a
// Boost.DLL alias placed in its own ELF section), pointing at a
// LibraryDescriptor that lists the library's modules. Each module also ships a
// manifest (`<name>.json`, '/' in the name written as '_') beside the library;
// the kernel reads manifests without loading code and checks, when it loads,
// that the descriptor agrees with the manifest.
//
// Writing a module:
//
//   class MyAllocator : public keel::Allocator {
//    public:
//     explicit MyAllocator(keel::ModuleContext& ctx);
//     ...
//   };
//   KEEL_MODULE_LIBRARY(
//       KEEL_MODULE(kAllocator, "my-allocator", "1.0.0", "What it does", MyAllocator));
//
// Factories run on the daemon's main thread before the daemon serves, and when
// `--check-config` validates a config: a constructor must not bind sockets,
// start threads or touch the host (do that in the kind's start call). An
// exception thrown by a constructor is reported with the module's name and the
// daemon refuses to start; it never crashes the daemon.
//
// Threading: unless a kind's header says otherwise, the kernel calls a module
// only on its daemon's core strand, one call at a time, and a call must not
// block (no sleeping, no waiting on a child or a socket).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#ifndef BOOST_DLL_USE_STD_FS
#define BOOST_DLL_USE_STD_FS
#endif
#include <boost/dll/alias.hpp>

#include "keel/parameters.hpp"

#define KEEL_SDK_VERSION "0.1.0"

namespace keel {

// Bumped whenever a public SDK header changes incompatibly. The kernel loads
// only modules built against the same ABI version.
inline constexpr uint32_t kModuleAbiVersion = 5;

enum class ModuleKind : uint32_t {
  kAllocator = 1,
  kIsolator = 2,
  kContainerizer = 3,
  kAuthenticator = 4,
  kTransport = 5,
};

// "allocator", "isolator", ... as written in manifests and configs.
const char* ModuleKindName(ModuleKind kind);
bool ParseModuleKind(std::string_view name, ModuleKind* kind);

enum class LogLevel { kInfo, kWarning, kError };

// A cancellable timer handle; destroying it does not cancel the timer.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void Cancel() = 0;
};

// What the kernel hands a module: its configuration, a place to log, a place
// to keep state and a way to run work later on the daemon's core strand.
// Owned by the kernel; valid for the whole life of the module instance.
class ModuleContext {
 public:
  virtual ~ModuleContext() = default;

  // The module's name as in its manifest ("drf", "cgroups/mem").
  virtual const std::string& module_name() const = 0;
  // Parameters validated against the manifest, defaults filled in.
  virtual const Parameters& parameters() const = 0;
  // A directory private to this module inside the daemon's work_dir; created
  // on first use. Empty when the daemon has no work_dir (keelctl, tests).
  virtual std::string work_dir() const = 0;

  // Logs through the daemon's log, prefixed with the module's name.
  virtual void Log(LogLevel level, std::string_view message) const = 0;

  // Runs `fn` on the daemon's core strand, after the current call returns.
  // Safe to call from any thread.
  virtual void Post(std::function<void()> fn) = 0;
  // Runs `fn` on the core strand after `delay`. Safe to call from any thread.
  virtual std::shared_ptr<TimerHandle> RunAfter(std::chrono::nanoseconds delay,
                                                std::function<void()> fn) = 0;

  // Counters and gauges the daemon exports under "<kind>/<module>/<name>".
  virtual void IncrementCounter(std::string_view name, uint64_t by = 1) = 0;
  virtual void SetGauge(std::string_view name, double value) = 0;
};

// The root of every kind's interface. Instances are created by a module's
// factory and destroyed by the kernel, which keeps the library loaded for as
// long as an instance lives.
class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;
};

using ModuleFactory = Module* (*)(ModuleContext& context);

// One module of a library. Plain data so that its layout is checked by size.
struct ModuleDescriptor {
  ModuleKind kind;
  const char* name;
  const char* version;
  const char* description;
  ModuleFactory create;
};

// The exported root. `abi_version`, `descriptor_size` and `build_signature`
// let the kernel refuse a library built for another ABI, compiler or
// protobuf before it touches anything else in it.
struct LibraryDescriptor {
  uint32_t abi_version;
  uint32_t descriptor_size;  // sizeof(ModuleDescriptor) in the module's build
  const char* build_signature;
  const char* sdk_version;
  size_t module_count;
  const ModuleDescriptor* modules;
};

// The exported symbol's name.
inline constexpr const char* kLibraryDescriptorSymbol = "keel_module_library";

// Pointer size, libstdc++ string ABI and protobuf major version, compared
// whole by the kernel: modules share C++ types with it, so these must match.
const char* BuildSignature();

namespace detail {
#define KEEL_STRINGIFY_INNER(x) #x
#define KEEL_STRINGIFY(x) KEEL_STRINGIFY_INNER(x)
#if defined(_GLIBCXX_USE_CXX11_ABI)
#define KEEL_CXX11_ABI KEEL_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#else
#define KEEL_CXX11_ABI "none"
#endif
// Expanded in the module's own translation unit, so it records the module's
// build, not the SDK library's. KEEL_PROTOBUF_MAJOR is set by the SDK's CMake
// package from the protobuf it was built with.
#ifndef KEEL_PROTOBUF_MAJOR
#define KEEL_PROTOBUF_MAJOR unknown
#endif
#define KEEL_BUILD_SIGNATURE                                                                      \
  "ptr" KEEL_STRINGIFY(__SIZEOF_POINTER__) "-cxx11abi" KEEL_CXX11_ABI "-protobuf" KEEL_STRINGIFY( \
      KEEL_PROTOBUF_MAJOR) "-sdk" KEEL_SDK_VERSION

template <typename Interface, typename Impl>
Module* Create(ModuleContext& context) {
  static_assert(std::is_base_of_v<Interface, Impl>, "module class must implement the kind");
  Interface* instance = new Impl(context);
  return instance;
}
}  // namespace detail

class Allocator;
class Isolator;
class Containerizer;
class Authenticator;
class Transport;

template <ModuleKind K>
struct KindInterface;
template <>
struct KindInterface<ModuleKind::kAllocator> {
  using type = Allocator;
};
template <>
struct KindInterface<ModuleKind::kIsolator> {
  using type = Isolator;
};
template <>
struct KindInterface<ModuleKind::kContainerizer> {
  using type = Containerizer;
};
template <>
struct KindInterface<ModuleKind::kAuthenticator> {
  using type = Authenticator;
};
template <>
struct KindInterface<ModuleKind::kTransport> {
  using type = Transport;
};

}  // namespace keel

// One entry of KEEL_MODULE_LIBRARY. KIND is kAllocator, kIsolator, ...; the
// class IMPL must derive from that kind's interface and take a
// `keel::ModuleContext&` in its constructor.
#define KEEL_MODULE(KIND, NAME, VERSION, DESCRIPTION, IMPL)                                  \
  ::keel::ModuleDescriptor {                                                                 \
    ::keel::ModuleKind::KIND, NAME, VERSION, DESCRIPTION,                                    \
        &::keel::detail::Create<::keel::KindInterface<::keel::ModuleKind::KIND>::type, IMPL> \
  }

// Declares the library's modules and exports the descriptor. Use once per
// library, at namespace scope.
#define KEEL_MODULE_LIBRARY(...)                                        \
  namespace {                                                           \
  const ::keel::ModuleDescriptor keel_module_entries[] = {__VA_ARGS__}; \
  }                                                                     \
  extern "C" {                                                          \
  const ::keel::LibraryDescriptor keel_module_library_object = {        \
      ::keel::kModuleAbiVersion,                                        \
      static_cast<uint32_t>(sizeof(::keel::ModuleDescriptor)),          \
      KEEL_BUILD_SIGNATURE,                                             \
      KEEL_SDK_VERSION,                                                 \
      sizeof(keel_module_entries) / sizeof(keel_module_entries[0]),     \
      keel_module_entries};                                             \
  }                                                                     \
  BOOST_DLL_ALIAS_SECTIONED(keel_module_library_object, keel_module_library, keelmods)
