// The master's registry: what it must remember across restarts, in
// <work_dir>/registry.json. For now the operator's policy (roles' weights and
// quotas) and the maintenance schedule; admitted agents and frameworks join
// it later.
//
// Every change is written to the file (atomically: a crash leaves the old
// content or the new) before it is kept in memory, so a change the master
// acknowledged survives a restart, and a change it could not write is not
// half made. A registry file that cannot be read or makes no sense refuses
// the master's start: starting with an empty policy would silently drop the
// operator's quotas.
//
// Not thread-safe: the master uses it on its io thread.
#pragma once

#include <string>

#include "keel/internal/master_registry.pb.h"
#include "keel/status.hpp"
#include "kernel/master/policy_protos.hpp"

namespace keel::master {

class Registry {
 public:
  // Reads <work_dir>/registry.json; no file is an empty registry (the first
  // start). Errors name the file and what is wrong with it.
  static Result<Registry> Open(const std::string& work_dir);

  const std::string& path() const { return path_; }
  const Weights& weights() const { return weights_; }
  // Roles with a quota other than the default.
  const Quotas& quotas() const { return quotas_; }

  // The maintenance schedule last set (no windows: none).
  const internal::MaintenanceSchedule& maintenance_schedule() const { return schedule_; }

  // Sets the weight of each role in `weights`; other roles keep theirs.
  Status SetWeights(const Weights& weights);
  // Replaces the quota of each role in `quotas`; an empty Quota gives the
  // role the default back.
  Status SetQuotas(const Quotas& quotas);
  // Replaces the maintenance schedule; REQUIRES: a valid one
  // (ValidateMaintenanceSchedule).
  Status SetMaintenanceSchedule(const internal::MaintenanceSchedule& schedule);

 private:
  explicit Registry(std::string path) : path_(std::move(path)) {}
  // Writes the file holding `weights`, `quotas` and `schedule`.
  Status Write(const Weights& weights, const Quotas& quotas,
               const internal::MaintenanceSchedule& schedule) const;

  std::string path_;
  Weights weights_;
  Quotas quotas_;
  internal::MaintenanceSchedule schedule_;
};

}  // namespace keel::master
