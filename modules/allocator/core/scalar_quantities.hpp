// ScalarQuantities: amounts of scalar resources by name, whatever their
// reservation: what shares, quotas and guarantees are computed from. Much
// cheaper to add up than Resources, which merge ranges, sets and roles: an
// allocation step adds to several of these per grant.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/resources.hpp"

namespace keel::modules {

class ScalarQuantities {
 public:
  ScalarQuantities() = default;
  explicit ScalarQuantities(const Resources& resources) { Add(resources); }

  void Add(const Resources& resources);
  // Never below zero, as Resources.
  void Subtract(const Resources& resources);
  Scalar Get(std::string_view name) const;
  bool empty() const;  // nothing above zero
  // Sorted by name; may hold zero amounts.
  const std::vector<std::pair<std::string, Scalar>>& entries() const { return entries_; }
  Resources ToResources() const;  // unreserved scalars

 private:
  Scalar& At(const std::string& name);

  std::vector<std::pair<std::string, Scalar>> entries_;
};

}  // namespace keel::modules
