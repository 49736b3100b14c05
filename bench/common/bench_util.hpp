// Helpers the benchmarks that drive real daemons share: scalar resources for
// the TaskInfos and AgentInfos they make, how many tasks an offer holds, and
// percentiles of their samples.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "keel/v1/mesos.pb.h"

namespace keel::bench {

inline v1::Resource Scalar(const char* name, double value) {
  v1::Resource r;
  r.set_name(name);
  r.set_type(v1::Value::SCALAR);
  r.mutable_scalar()->set_value(value);
  return r;
}

// The Keel and Mesos resource maths work in thousandths.
inline int64_t Millis(double value) { return std::llround(value * 1000.0); }

// How many tasks of `task_cpus` and `task_mem` one offer holds.
inline int Fit(const v1::Offer& offer, double task_cpus, double task_mem) {
  int64_t cpus = 0, mem = 0;
  for (const auto& r : offer.resources()) {
    if (r.name() == "cpus") cpus += Millis(r.scalar().value());
    if (r.name() == "mem") mem += Millis(r.scalar().value());
  }
  return static_cast<int>(std::min(cpus / Millis(task_cpus), mem / Millis(task_mem)));
}

// The `p` quantile (0 to 1) of `v`; 0 for no samples.
inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace keel::bench
