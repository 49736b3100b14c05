#include "keel/parameters.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace keel {

namespace {

struct TypeName {
  ParameterType type;
  const char* name;
};
constexpr TypeName kTypeNames[] = {
    {ParameterType::kString, "string"},     {ParameterType::kInt, "int"},
    {ParameterType::kDouble, "double"},     {ParameterType::kBool, "bool"},
    {ParameterType::kDuration, "duration"}, {ParameterType::kBytes, "bytes"},
    {ParameterType::kList, "list"},
};

// Splits "1.5s" into 1.5 and "s"; false when there is no leading number.
bool SplitNumber(std::string_view text, double* number, std::string_view* unit) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0) return false;
  std::string digits(text.substr(0, i));
  if (std::count(digits.begin(), digits.end(), '.') > 1 || digits == ".") return false;
  char* end = nullptr;
  *number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(*number)) return false;
  *unit = text.substr(i);
  return true;
}

}  // namespace

bool ParseParameterType(std::string_view name, ParameterType* type) {
  for (const auto& entry : kTypeNames) {
    if (name == entry.name) {
      *type = entry.type;
      return true;
    }
  }
  return false;
}

const char* ParameterTypeName(ParameterType type) {
  for (const auto& entry : kTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "unknown";
}

namespace {

// A number with a unit, both from a table: "1.5s", "512MB".
struct Unit {
  const char* name;
  double factor;
};

// The value of `text` in the table's base unit, or nothing.
template <size_t N>
std::optional<double> ParseWithUnit(std::string_view text, const Unit (&units)[N]) {
  double number = 0;
  std::string_view unit;
  if (!SplitNumber(text, &number, &unit)) return std::nullopt;
  for (const auto& u : units) {
    if (unit == u.name) return number * u.factor;
  }
  return std::nullopt;
}

}  // namespace

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  // Mesos's Duration units, plus their one-letter forms.
  static constexpr Unit kUnits[] = {
      {"ns", 1},         {"us", 1e3},     {"ms", 1e6},         {"s", 1e9},      {"secs", 1e9},
      {"m", 60e9},       {"mins", 60e9},  {"h", 3600e9},       {"hrs", 3600e9}, {"d", 86400e9},
      {"days", 86400e9}, {"w", 604800e9}, {"weeks", 604800e9},
  };
  auto ns = ParseWithUnit(text, kUnits);
  if (!ns || *ns > 9.2e18) {
    return Status::Error("'" + std::string(text) +
                         "' is not a duration (expected e.g. 500ms, 1s, 2mins)");
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(*ns)));
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  struct Unit {
    const char* name;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {
      {"h", 3600000000000}, {"m", 60000000000}, {"s", 1000000000}, {"ms", 1000000}, {"us", 1000},
  };
  const int64_t ns = d.count();
  for (const auto& u : kUnits) {
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  }
  if (ns != 0 && std::llabs(ns) >= 1000000000) {
    std::ostringstream out;
    out << std::setprecision(12) << static_cast<double>(ns) / 1e9 << "s";
    return out.str();
  }
  return std::to_string(ns) + "ns";
}

Result<uint64_t> ParseBytes(std::string_view text) {
  // Binary multiples, as Mesos's Bytes; a bare number is bytes.
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1024.0},
      {"MB", 1024.0 * 1024},
      {"GB", 1024.0 * 1024 * 1024},
      {"TB", 1024.0 * 1024 * 1024 * 1024},
  };
  auto bytes = ParseWithUnit(text, kUnits);
  if (!bytes || *bytes >= 1.8e19 || *bytes != std::floor(*bytes)) {
    return Status::Error("'" + std::string(text) +
                         "' is not a byte count (expected e.g. 512MB, 1GB, 4096B)");
  }
  return static_cast<uint64_t>(*bytes);
}

bool Parameters::Has(std::string_view name) const { return values_.find(name) != values_.end(); }

const Parameters::Value& Parameters::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::out_of_range("parameter '" + std::string(name) + "' is not set");
  }
  return it->second;
}

const std::string& Parameters::GetString(std::string_view name) const {
  return std::get<std::string>(Get(name));
}
int64_t Parameters::GetInt(std::string_view name) const { return std::get<int64_t>(Get(name)); }
double Parameters::GetDouble(std::string_view name) const { return std::get<double>(Get(name)); }
bool Parameters::GetBool(std::string_view name) const { return std::get<bool>(Get(name)); }
std::chrono::nanoseconds Parameters::GetDuration(std::string_view name) const {
  return std::get<std::chrono::nanoseconds>(Get(name));
}
uint64_t Parameters::GetBytes(std::string_view name) const { return std::get<uint64_t>(Get(name)); }
const std::vector<std::string>& Parameters::GetList(std::string_view name) const {
  return std::get<std::vector<std::string>>(Get(name));
}

void Parameters::Set(std::string name, Value value) {
  values_.insert_or_assign(std::move(name), std::move(value));
}

}  // namespace keel
