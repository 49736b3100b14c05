// Metrics: the daemon's counters and gauges, by Mesos-style key
// ("master/uptime_secs", "allocator/drf/allocation_runs"). Thread-safe: modules
// and transport threads update them; the HTTP handler snapshots them.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace keel::runtime {

class Metrics {
 public:
  void Increment(std::string_view key, uint64_t by = 1);
  void Set(std::string_view key, double value);
  std::map<std::string, double> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, double, std::less<>> values_;
};

}  // namespace keel::runtime
