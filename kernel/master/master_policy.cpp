// Operator policy: roles' weights and quotas, written to the registry first,
// then handed to the allocator; and what roles consume, which quota limits
// bound.
#include <glog/logging.h>

#include "kernel/master/master.hpp"
#include "kernel/master/role_name.hpp"

namespace keel::master {

namespace {

// The first resource of `limits` that `consumption` exceeds, said as
// "cpus:4 (limit 1)"; nothing when all fit.
std::optional<std::string> AboveLimit(const Resources& consumption, const Resources& limits) {
  for (const std::string& name : limits.Names()) {
    const Scalar consumed = consumption.GetScalar(name);
    const Scalar limit = limits.GetScalar(name);
    if (consumed > limit)
      return name + ":" + consumed.ToString() + " (limit " + limit.ToString() + ")";
  }
  return std::nullopt;
}

}  // namespace

std::optional<CallError> Master::UpdateWeights(const Weights& weights) {
  if (auto s = registry_.SetWeights(weights); !s.ok()) {
    return CallError{500, "Failed to update weights: " + s.message()};
  }
  allocator_.UpdateWeights(weights);
  for (const auto& [role, weight] : weights)
    LOG(INFO) << "weight of role '" << role << "': " << weight;
  RequestAllocation();
  return std::nullopt;
}

std::optional<CallError> Master::UpdateQuotas(const Quotas& quotas, bool force) {
  if (!force) {
    for (const auto& [role, quota] : quotas) {
      if (auto over = AboveLimit(Consumption(role), quota.limits)) {
        return CallError{400, "Role '" + role + "' already consumes " + *over +
                                  " (offered and used); set 'force' to lower the limit anyway"};
      }
    }
  }
  if (auto s = registry_.SetQuotas(quotas); !s.ok()) {
    return CallError{500, "Failed to update quota: " + s.message()};
  }
  for (const auto& [role, quota] : quotas) {
    allocator_.UpdateQuota(role, quota);
    quota_epoch_ = ++allocator_epoch_;
    LOG(INFO) << "quota of role '" << role << "': guarantees '" << quota.guarantees.ToString()
              << "', limits '" << quota.limits.ToString() << "'";
    RescindBeyondLimits(role, quota);
  }
  RequestAllocation();
  return std::nullopt;
}

void Master::RescindBeyondLimits(const std::string& role, const Quota& quota) {
  // Offers are what the master can take back; running tasks keep running
  // (as in Mesos), so a forced limit may stay exceeded until they end.
  std::vector<std::string> candidates;
  for (const auto& [id, offer] : offers_) {
    if (IsSelfOrSubRole(offer.role, role)) candidates.push_back(id);
  }
  for (const std::string& id : candidates) {
    if (!AboveLimit(Consumption(role), quota.limits)) return;
    RescindOffer(id, true);
  }
}

Resources Master::Consumption(const std::string& role) const {
  Resources consumed;
  for (const auto& [id, offer] : offers_) {
    if (IsSelfOrSubRole(offer.role, role)) consumed += offer.resources;
  }
  for (const auto& [framework_id, framework] : frameworks_) {
    for (const auto& [task_id, task] : framework.tasks) {
      if (!task.resources_recovered && IsSelfOrSubRole(task.role, role)) {
        consumed += task.resources;
      }
    }
  }
  return consumed;
}

}  // namespace keel::master
