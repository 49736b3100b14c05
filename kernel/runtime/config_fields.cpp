#include "kernel/runtime/config_fields.hpp"

#include <unistd.h>

#include "keel/parameters.hpp"

namespace keel::runtime {

std::chrono::nanoseconds DurationField(const std::string& field, const std::string& text,
                                       std::chrono::nanoseconds fallback, bool zero_allowed,
                                       std::vector<std::string>* errors) {
  auto d = ParseDuration(text);
  if (!d.ok()) {
    errors->push_back("field '" + field + "': " + d.status().message());
    return fallback;
  }
  if (d->count() < 0 || (d->count() == 0 && !zero_allowed)) {
    errors->push_back("field '" + field + "': must be " +
                      (zero_allowed ? "zero or more" : "positive") + ", got '" + text + "'");
    return fallback;
  }
  return *d;
}

std::string HostnameOr(const std::string& configured, const std::string& ip) {
  if (!configured.empty()) return configured;
  char name[256] = {};
  return ::gethostname(name, sizeof(name) - 1) == 0 && name[0] ? name : ip;
}

double NowSeconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace keel::runtime
