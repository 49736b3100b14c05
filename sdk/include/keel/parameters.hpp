// Parameters: a module's configuration, already checked against its manifest.
//
// The kernel validates every parameter named in a daemon's config against the
// module's manifest (known name, right type, required ones present) and fills
// in the manifest's defaults *before* the module's factory runs. A module can
// therefore read any parameter its manifest declares without checking for it.
//
// Types (as written in the manifest's "type" field and in JSON config):
//   string    "text"
//   int       42            (JSON integer)
//   double    0.5           (JSON number)
//   bool      true
//   duration  "500ms", "1s", "2m", "1h" (also "250us", "10ns", "1.5s")
//   bytes     "512MB", "1GB", "64KB", "100B" or a JSON integer (bytes);
//             binary multiples (1KB = 1024 B), as Mesos's Bytes do
//   list      ["a", "b"]    (JSON array of strings)
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "keel/status.hpp"

namespace keel {

enum class ParameterType { kString, kInt, kDouble, kBool, kDuration, kBytes, kList };

// "string", "int", ... as written in manifests. Returns false for an unknown name.
bool ParseParameterType(std::string_view name, ParameterType* type);
const char* ParameterTypeName(ParameterType type);

// Text forms shared by config, manifests and flags.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);
Result<uint64_t> ParseBytes(std::string_view text);
std::string FormatDuration(std::chrono::nanoseconds d);

class Parameters {
 public:
  using Value = std::variant<std::string, int64_t, double, bool, std::chrono::nanoseconds, uint64_t,
                             std::vector<std::string>>;

  bool Has(std::string_view name) const;

  // Each getter REQUIRES: the manifest declares `name` with the matching type
  // (the kernel guarantees presence for required parameters and those with
  // defaults). Calling one for an absent or differently typed parameter throws
  // std::out_of_range / std::bad_variant_access: a bug in the module.
  const std::string& GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;
  double GetDouble(std::string_view name) const;
  bool GetBool(std::string_view name) const;
  std::chrono::nanoseconds GetDuration(std::string_view name) const;
  uint64_t GetBytes(std::string_view name) const;
  const std::vector<std::string>& GetList(std::string_view name) const;

  void Set(std::string name, Value value);
  const std::map<std::string, Value, std::less<>>& values() const { return values_; }

 private:
  const Value& Get(std::string_view name) const;
  std::map<std::string, Value, std::less<>> values_;
};

}  // namespace keel
