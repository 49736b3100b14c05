#include "modules/allocator/core/scalar_quantities.hpp"

#include <algorithm>

namespace keel::modules {

Scalar& ScalarQuantities::At(const std::string& name) {
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), name,
                       [](const auto& entry, const std::string& n) { return entry.first < n; });
  if (it == entries_.end() || it->first != name) it = entries_.insert(it, {name, Scalar()});
  return it->second;
}

void ScalarQuantities::Add(const Resources& resources) {
  for (const auto& entry : resources.entries()) {
    if (entry.type == Resource::Type::kScalar) At(entry.name) += entry.scalar;
  }
}

void ScalarQuantities::Subtract(const Resources& resources) {
  for (const auto& entry : resources.entries()) {
    if (entry.type != Resource::Type::kScalar) continue;
    Scalar& amount = At(entry.name);
    amount = std::max(Scalar(), amount - entry.scalar);
  }
}

Scalar ScalarQuantities::Get(std::string_view name) const {
  for (const auto& [n, amount] : entries_) {
    if (n == name) return amount;
  }
  return Scalar();
}

bool ScalarQuantities::empty() const {
  return std::none_of(entries_.begin(), entries_.end(),
                      [](const auto& entry) { return entry.second > Scalar(); });
}

Resources ScalarQuantities::ToResources() const {
  Resources out;
  for (const auto& [name, amount] : entries_) {
    if (amount > Scalar()) out += Resources::Scalar(name, amount.value());
  }
  return out;
}

}  // namespace keel::modules
