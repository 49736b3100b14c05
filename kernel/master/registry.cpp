#include "kernel/master/registry.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "keel/v1/quota.pb.h"
#include "kernel/master/maintenance_endpoints.hpp"
#include "kernel/runtime/atomic_file.hpp"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/mesos_json.hpp"

namespace keel::master {

namespace {

bool IsDefault(const Quota& quota) { return quota.guarantees.empty() && quota.limits.empty(); }

}  // namespace

Result<Registry> Registry::Open(const std::string& work_dir) {
  Registry registry(work_dir + "/registry.json");
  struct stat info {};
  if (::stat(registry.path_.c_str(), &info) != 0) {
    if (errno == ENOENT) return registry;
    return Status::Error("registry " + registry.path_ + ": " + std::strerror(errno));
  }
  internal::MasterRegistry file;
  if (auto s = runtime::ReadJsonFile(registry.path_, &file); !s.ok()) {
    // protobuf's reason may go on with a multi-line excerpt of the input.
    return Status::Error("registry " + s.message().substr(0, s.message().find('\n')));
  }
  if (!file.IsInitialized()) {
    return Status::Error("registry " + registry.path_ +
                         ": missing required fields: " + file.InitializationErrorString());
  }
  auto weights = ReadWeights(file.weights(), "weights");
  if (!weights.ok()) {
    return Status::Error("registry " + registry.path_ + ": " + weights.status().message());
  }
  auto quotas = ReadQuotaConfigs(file.quotas(), "quotas");
  if (!quotas.ok()) {
    return Status::Error("registry " + registry.path_ + ": " + quotas.status().message());
  }
  if (auto bad = ValidateMaintenanceSchedule(file.maintenance_schedule())) {
    return Status::Error("registry " + registry.path_ + ": maintenance_schedule: " + *bad);
  }
  registry.schedule_ = file.maintenance_schedule();
  registry.weights_ = std::move(weights).value();
  registry.quotas_ = std::move(quotas).value();
  std::erase_if(registry.quotas_, [](const auto& entry) { return IsDefault(entry.second); });
  return registry;
}

Status Registry::SetWeights(const Weights& weights) {
  Weights updated = weights_;
  for (const auto& [role, weight] : weights) updated[role] = weight;
  if (auto s = Write(updated, quotas_, schedule_); !s.ok()) return s;
  weights_ = std::move(updated);
  return Status::Ok();
}

Status Registry::SetQuotas(const Quotas& quotas) {
  Quotas updated = quotas_;
  for (const auto& [role, quota] : quotas) {
    if (IsDefault(quota)) {
      updated.erase(role);
    } else {
      updated[role] = quota;
    }
  }
  if (auto s = Write(weights_, updated, schedule_); !s.ok()) return s;
  quotas_ = std::move(updated);
  return Status::Ok();
}

Status Registry::SetMaintenanceSchedule(const internal::MaintenanceSchedule& schedule) {
  if (auto s = Write(weights_, quotas_, schedule); !s.ok()) return s;
  schedule_ = schedule;
  return Status::Ok();
}

Status Registry::Write(const Weights& weights, const Quotas& quotas,
                       const internal::MaintenanceSchedule& schedule) const {
  internal::MasterRegistry file;
  WriteWeights(weights, file.mutable_weights());
  WriteQuotaConfigs(quotas, file.mutable_quotas());
  if (schedule.windows_size() > 0) *file.mutable_maintenance_schedule() = schedule;
  if (auto s = runtime::WriteFileAtomically(path_, runtime::MesosJson(file) + "\n"); !s.ok()) {
    return Status::Error("registry: " + s.message());
  }
  return Status::Ok();
}

}  // namespace keel::master
