#include "kernel/master/policy_protos.hpp"

#include <cmath>

#include "keel/v1/mesos.pb.h"
#include "keel/v1/quota.pb.h"
#include "kernel/master/role_name.hpp"
#include "kernel/protocol/resource_conversion.hpp"

namespace keel::master {

namespace {

using v1::quota::QuotaConfig;
using ScalarMap = google::protobuf::Map<std::string, v1::Value::Scalar>;

std::string Indexed(const std::string& where, int i) {
  return where + "[" + std::to_string(i) + "]";
}

std::string Number(double value) {
  std::string s = std::to_string(value);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

// Resource names are free-form in Mesos, but one that cannot be typed or
// printed back is a mistake, not a resource.
std::optional<std::string> InvalidResourceName(const std::string& name) {
  if (name.empty()) return std::string("the resource name is empty");
  for (unsigned char c : name) {
    if (c <= ' ' || c == 0x7f) {
      return "resource name '" + name + "' contains whitespace or a control character";
    }
  }
  return std::nullopt;
}

// A map of amounts as unreserved scalar Resources; `limits` refuses zero,
// which Resources cannot hold (see ReadQuotaConfigs).
Result<Resources> ReadAmounts(const ScalarMap& amounts, const std::string& where, bool limits) {
  Resources out;
  // Sorted, so that the first error reported does not depend on hashing.
  std::map<std::string, double> sorted;
  for (const auto& [name, scalar] : amounts) sorted[name] = scalar.value();
  for (const auto& [name, value] : sorted) {
    const std::string field = where + "['" + name + "']";
    if (auto bad = InvalidResourceName(name)) return Status::Error(field + ": " + *bad);
    if (!std::isfinite(value)) return Status::Error(field + ": not a finite number");
    if (value < 0) return Status::Error(field + ": " + Number(value) + " is negative");
    const Scalar amount = Scalar::FromDouble(value);
    if (limits && amount == Scalar()) {
      // Resources drop zero amounts, so the allocator would read a zero
      // limit as no limit at all: refused rather than silently unenforced.
      return Status::Error(field +
                           ": a limit of 0 cannot be enforced yet (the allocator interface "
                           "has no way to say it)");
    }
    (void)out.Add(Resource{name, "*", Resource::Type::kScalar, amount, {}, {}});
  }
  return out;
}

// Each guarantee at most its limit, where the resource has one.
std::optional<std::string> GuaranteeAboveLimit(const Quota& quota) {
  for (const std::string& name : quota.guarantees.Names()) {
    if (!quota.limits.Names().count(name)) continue;
    const Scalar guarantee = quota.guarantees.GetScalar(name);
    const Scalar limit = quota.limits.GetScalar(name);
    if (guarantee > limit) {
      return "the guarantee of '" + name + "' (" + guarantee.ToString() + ") is above its limit (" +
             limit.ToString() + ")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> InvalidQuotaRole(const std::string& role) {
  if (auto bad = InvalidRoleReason(role)) return bad;
  if (role == "*") return std::string("quota cannot be set for the default role '*'");
  return std::nullopt;
}

void WriteAmounts(const Resources& amounts, ScalarMap* out) {
  for (const Resource& entry : amounts.entries()) {
    (*out)[entry.name].set_value(entry.scalar.value());
  }
}

}  // namespace

Result<Weights> ReadWeights(const WeightInfos& infos, const std::string& where) {
  Weights weights;
  for (int i = 0; i < infos.size(); ++i) {
    const v1::WeightInfo& info = infos.Get(i);
    const std::string entry = Indexed(where, i);
    if (auto bad = InvalidRoleReason(info.role())) return Status::Error(entry + ".role: " + *bad);
    if (!info.has_weight()) return Status::Error(entry + ".weight: missing");
    if (!std::isfinite(info.weight())) return Status::Error(entry + ".weight: not a finite number");
    if (info.weight() <= 0) {
      return Status::Error(entry + ".weight: " + Number(info.weight()) + " is not positive");
    }
    if (!weights.emplace(info.role(), info.weight()).second) {
      return Status::Error(entry + ".role: role '" + info.role() + "' appears more than once");
    }
  }
  return weights;
}

void WriteWeights(const Weights& weights, WeightInfos* out) {
  out->Clear();
  for (const auto& [role, weight] : weights) {
    v1::WeightInfo* info = out->Add();
    info->set_role(role);
    info->set_weight(weight);
  }
}

Result<Quotas> ReadQuotaConfigs(const QuotaConfigs& configs, const std::string& where) {
  Quotas quotas;
  for (int i = 0; i < configs.size(); ++i) {
    const QuotaConfig& config = configs.Get(i);
    const std::string entry = Indexed(where, i);
    if (auto bad = InvalidQuotaRole(config.role())) return Status::Error(entry + ".role: " + *bad);
    Quota quota;
    auto guarantees = ReadAmounts(config.guarantees(), entry + ".guarantees", false);
    if (!guarantees.ok()) return guarantees.status();
    auto limits = ReadAmounts(config.limits(), entry + ".limits", true);
    if (!limits.ok()) return limits.status();
    quota.guarantees = std::move(guarantees).value();
    quota.limits = std::move(limits).value();
    if (auto bad = GuaranteeAboveLimit(quota)) return Status::Error(entry + ": " + *bad);
    if (!quotas.emplace(config.role(), std::move(quota)).second) {
      return Status::Error(entry + ".role: role '" + config.role() + "' appears more than once");
    }
  }
  return quotas;
}

void WriteQuotaConfigs(const Quotas& quotas, QuotaConfigs* out) {
  out->Clear();
  for (const auto& [role, quota] : quotas) {
    QuotaConfig* config = out->Add();
    config->set_role(role);
    WriteAmounts(quota.guarantees, config->mutable_guarantees());
    WriteAmounts(quota.limits, config->mutable_limits());
  }
}

Result<std::pair<std::string, Quota>> ReadQuotaRequest(const v1::quota::QuotaRequest& request) {
  if (auto bad = InvalidQuotaRole(request.role())) return Status::Error("role: " + *bad);
  if (request.guarantee().empty()) {
    return Status::Error("guarantee: empty; name at least one resource");
  }
  ScalarMap amounts;
  for (int i = 0; i < request.guarantee_size(); ++i) {
    const v1::Resource& r = request.guarantee(i);
    const std::string entry = Indexed("guarantee", i) + " '" + r.name() + "'";
    if (r.type() != v1::Value::SCALAR || !r.has_scalar()) {
      return Status::Error(entry + ": quota takes SCALAR resources (with a scalar) only");
    }
    if (r.reservations_size() > 0 || r.has_reservation() || r.role() != "*") {
      return Status::Error(entry + ": quota takes unreserved resources only");
    }
    if (r.has_disk() || r.has_revocable() || r.has_shared() || r.has_provider_id()) {
      return Status::Error(entry +
                           ": quota takes plain amounts (no disk, revocable, shared or provider)");
    }
    if (amounts.count(r.name())) return Status::Error(entry + ": named more than once");
    amounts[r.name()] = r.scalar();
  }
  auto guarantees = ReadAmounts(amounts, "guarantee", false);
  if (!guarantees.ok()) return guarantees.status();
  auto limits = ReadAmounts(amounts, "guarantee", true);
  if (!limits.ok()) return limits.status();
  return std::make_pair(request.role(),
                        Quota{std::move(guarantees).value(), std::move(limits).value()});
}

void WriteQuotaStatus(const Quotas& quotas, v1::quota::QuotaStatus* out) {
  out->Clear();
  WriteQuotaConfigs(quotas, out->mutable_configs());
  for (const auto& [role, quota] : quotas) {
    v1::quota::QuotaInfo* info = out->add_infos();
    info->set_role(role);
    protocol::ToProto(quota.guarantees, info->mutable_guarantee());
  }
}

}  // namespace keel::master
