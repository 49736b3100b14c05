#include "modules/allocator/core/offer_filters.hpp"

namespace keel::modules {

void OfferFilters::Add(const AgentId& agent, const std::string& role, const Resources& refused,
                       TimePoint expiry) {
  by_agent_[agent].push_back({role, refused, expiry});
}

bool OfferFilters::Filters(const AgentId& agent, const std::string& role, const Resources& offer,
                           TimePoint now) {
  auto it = by_agent_.find(agent);
  if (it == by_agent_.end()) return false;
  auto& filters = it->second;
  std::erase_if(filters, [&](const Filter& f) { return f.expiry <= now; });
  if (filters.empty()) {
    by_agent_.erase(it);
    return false;
  }
  for (const auto& f : filters) {
    if (f.role == role && f.refused.Contains(offer)) return true;
  }
  return false;
}

void OfferFilters::Clear(const std::set<std::string>& roles) {
  if (roles.empty()) {
    by_agent_.clear();
    return;
  }
  for (auto it = by_agent_.begin(); it != by_agent_.end();) {
    std::erase_if(it->second, [&](const Filter& f) { return roles.count(f.role) != 0; });
    it = it->second.empty() ? by_agent_.erase(it) : std::next(it);
  }
}

}  // namespace keel::modules
