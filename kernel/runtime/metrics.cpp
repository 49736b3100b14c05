#include "kernel/runtime/metrics.hpp"

namespace keel::runtime {

void Metrics::Increment(std::string_view key, uint64_t by) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(key);
  if (it == values_.end()) it = values_.emplace(std::string(key), 0.0).first;
  it->second += static_cast<double>(by);
}

void Metrics::Set(std::string_view key, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = values_.find(key);
  if (it == values_.end()) {
    values_.emplace(std::string(key), value);
  } else {
    it->second = value;
  }
}

std::map<std::string, double> Metrics::Snapshot() const {
  std::map<std::string, double> values;
  {
    std::lock_guard<std::mutex> lock(mu_);
    values.insert(values_.begin(), values_.end());
  }
  for (const auto& provider : providers_) provider(&values);
  return values;
}

}  // namespace keel::runtime
