// The master's registry: what it must remember across restarts, in
// <work_dir>/registry.json: the operator's policy (roles' weights and
// quotas), the maintenance schedule, the agents it admitted and the
// frameworks subscribed (docs/operator-api.md, "The registry file").
//
// Two kinds of change, written two ways (always atomically: a crash leaves
// the old file or the new one, never a mix):
// * The operator's policy is written before it is kept in memory, on the
//   caller's thread, so a change the master acknowledged survives a
//   restart, and a change it could not write is not half made.
// * Admitted agents and frameworks change with every registration and
//   subscription (tens of thousands a minute at scale), so they are kept in
//   memory at once and written in batches by a writer thread of the
//   registry's own, at most every kFlushInterval: a registration never waits
//   for a disk. A crash loses the last interval's changes, which the
//   cluster heals: an agent re-registers under its id whether or not the
//   registry names it, and a framework re-subscribes under its id.
//
// A registry file that cannot be read or makes no sense refuses the master's
// start: starting with an empty policy would silently drop the operator's
// quotas.
//
// Not thread-safe: the master uses it on its io thread (the writer thread
// only ever sees copies).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "keel/internal/master_registry.pb.h"
#include "keel/status.hpp"
#include "kernel/master/policy_protos.hpp"

namespace boost::asio {
class io_context;
}
namespace keel::runtime {
class Timer;
}

namespace keel::master {

class Registry {
 public:
  // Batched changes reach the file at most this long after they were made;
  // for a large registry, at most four times its last write's duration.
  static constexpr std::chrono::milliseconds kFlushInterval{100};

  // Reads <work_dir>/registry.json; no file is an empty registry (the first
  // start). A file of an older master (without agents or frameworks) reads
  // as one with none. Errors name the file and what is wrong with it.
  static Result<Registry> Open(const std::string& work_dir);
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  // Writes what is still unwritten and waits for it.
  ~Registry();

  // Batched changes are written from here on (before: at destruction).
  // REQUIRES: `io` runs on the caller's thread and outlives the registry;
  // the registry is not moved afterwards (its timer points at it).
  void Start(boost::asio::io_context& io);

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

  // Admitted agents by id, and frameworks by id, as read or last set. Held
  // by shared pointers to records never changed once made, so that a batch
  // handed to the writer thread is a list of pointers, not a copy.
  template <typename T>
  using Records = std::map<std::string, std::shared_ptr<const T>>;
  const Records<internal::AdmittedAgent>& agents() const { return agents_; }
  const Records<v1::FrameworkInfo>& frameworks() const { return frameworks_; }
  // Batched: adds or replaces the agent `agent.id()` (no change, no write).
  void AdmitAgent(const internal::AdmittedAgent& agent);
  // Batched: adds or replaces the framework `info.id()`, which must be set.
  void AddFramework(const v1::FrameworkInfo& info);
  void RemoveFramework(const std::string& framework_id);

  // Writes that failed (each is retried); for the master's metrics.
  uint64_t failed_writes() const;

 private:
  class Writer;
  struct Snapshot;
  explicit Registry(std::string path);
  // The whole registry as it is, with `weights`, `quotas` and `schedule`.
  Snapshot Take(const Weights& weights, const Quotas& quotas,
                const internal::MaintenanceSchedule& schedule) const;
  // Writes the registry with these policies now; the batched changes go
  // with it.
  Status WriteNow(const Weights& weights, const Quotas& quotas,
                  const internal::MaintenanceSchedule& schedule);
  void MarkDirty();
  // How long after a change the batch is handed to the writer.
  std::chrono::nanoseconds FlushDelay() const;
  // Hands the batched changes to the writer thread, unless it is busy.
  void Flush();

  std::string path_;
  Weights weights_;
  Quotas quotas_;
  internal::MaintenanceSchedule schedule_;
  Records<internal::AdmittedAgent> agents_;
  Records<v1::FrameworkInfo> frameworks_;
  // Counts the registry's versions: a write of an older one never replaces
  // a newer one's.
  uint64_t version_ = 0;
  bool dirty_ = false;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<runtime::Timer> flush_timer_;
};

}  // namespace keel::master
