// Metrics: the daemon's counters and gauges, by Mesos-style key
// ("master/uptime_secs", "allocator/drf/allocation_runs"). Thread-safe: modules
// and transport threads update them; the HTTP handler snapshots them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace keel::runtime {

class Metrics {
 public:
  // Adds gauges computed when a snapshot is taken (cpus_used from the
  // master's tasks): cheaper than keeping them current on every change.
  using Provider = std::function<void(std::map<std::string, double>* values)>;

  void Increment(std::string_view key, uint64_t by = 1);
  void Set(std::string_view key, double value);
  // REQUIRES: before the daemon serves; providers run on the thread that
  // calls Snapshot() (the daemon's io thread, for its HTTP endpoints).
  void AddProvider(Provider provider) { providers_.push_back(std::move(provider)); }
  std::map<std::string, double> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, double, std::less<>> values_;
  std::vector<Provider> providers_;
};

}  // namespace keel::runtime
