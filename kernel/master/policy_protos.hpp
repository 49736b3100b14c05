// Operators' weights and quotas between their Mesos messages (WeightInfo,
// QuotaConfig, QuotaRequest, QuotaStatus) and the master's own types.
//
// Reading checks everything an operator can get wrong, all or nothing, and
// each error names the field at fault: "quota_configs[1].limits['cpus']: -1
// is negative". The operator API, the legacy endpoints and the registry file
// read through here, so all three accept exactly the same values.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "keel/allocator.hpp"
#include "keel/status.hpp"

namespace google::protobuf {
template <typename T>
class RepeatedPtrField;
}
namespace keel::v1 {
class WeightInfo;
}
namespace keel::v1::quota {
class QuotaConfig;
class QuotaRequest;
class QuotaStatus;
}  // namespace keel::v1::quota

namespace keel::master {

using Weights = std::map<std::string, double>;  // role -> weight
using Quotas = std::map<std::string, Quota>;    // role -> quota

using WeightInfos = google::protobuf::RepeatedPtrField<v1::WeightInfo>;
using QuotaConfigs = google::protobuf::RepeatedPtrField<v1::quota::QuotaConfig>;

// Valid role names, positive finite weights, each role once. `where` names
// the list in errors ("update_weights.weight_infos").
Result<Weights> ReadWeights(const WeightInfos& infos, const std::string& where);
void WriteWeights(const Weights& weights, WeightInfos* out);

// Valid role names other than "*", finite non-negative scalars, guarantees
// within limits, each role once. A config with neither guarantees nor limits
// reads as an empty Quota: the role's quota goes back to the default.
Result<Quotas> ReadQuotaConfigs(const QuotaConfigs& configs, const std::string& where);
void WriteQuotaConfigs(const Quotas& quotas, QuotaConfigs* out);

// The legacy POST /quota body: its role, and a quota whose guarantees are the
// request's guarantee and whose limits are the same amounts, as Mesos (1.9+)
// reads this call: before limits existed a guarantee was also the most a
// role got, and the legacy call keeps meaning that.
Result<std::pair<std::string, Quota>> ReadQuotaRequest(const v1::quota::QuotaRequest& request);

// GET_QUOTA's and GET /quota's answer: every config, and for older clients
// every guarantee again as a legacy QuotaInfo.
void WriteQuotaStatus(const Quotas& quotas, v1::quota::QuotaStatus* out);

}  // namespace keel::master
