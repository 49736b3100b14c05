#include "kernel/master/registry.hpp"

#include <glog/logging.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "keel/v1/quota.pb.h"
#include "kernel/master/maintenance_endpoints.hpp"
#include "kernel/runtime/atomic_file.hpp"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/mesos_json.hpp"
#include "kernel/runtime/timer.hpp"

namespace keel::master {

namespace {

bool IsDefault(const Quota& quota) { return quota.guarantees.empty() && quota.limits.empty(); }

Status WriteFile(const std::string& path, const internal::MasterRegistry& file) {
  if (auto s = runtime::WriteFileAtomically(path, runtime::MesosJson(file) + "\n"); !s.ok()) {
    return Status::Error("registry: " + s.message());
  }
  return Status::Ok();
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace

// What a batch writes: the policy as a message, the agents and frameworks
// as pointers to their (immutable) records.
struct Registry::Snapshot {
  internal::MasterRegistry policy;
  std::vector<std::shared_ptr<const internal::AdmittedAgent>> agents;
  std::vector<std::shared_ptr<const v1::FrameworkInfo>> frameworks;

  internal::MasterRegistry File() const {
    internal::MasterRegistry file = policy;
    file.mutable_agents()->Reserve(static_cast<int>(agents.size()));
    for (const auto& agent : agents) *file.add_agents() = *agent;
    for (const auto& framework : frameworks) *file.add_frameworks() = *framework;
    return file;
  }
};

// Writes snapshots handed to it on a thread of its own; of the versions
// handed over while it writes, only the newest is written next. A write
// under `write_mu_` never replaces a newer version than its own.
class Registry::Writer {
 public:
  explicit Writer(std::string path) : path_(std::move(path)), thread_([this] { Run(); }) {}
  ~Writer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // Queues `file` (version `version`) for the thread; a queued older one is
  // dropped.
  void Post(uint64_t version, Snapshot file) {
    {
      std::lock_guard lock(mu_);
      if (pending_ && pending_->first > version) return;
      pending_.emplace(version, std::move(file));
      busy_ = true;
    }
    changed_.notify_all();
  }

  // Writes `file` on the caller's thread, waiting for a write in progress.
  Status WriteNow(uint64_t version, const Snapshot& file) {
    std::lock_guard lock(write_mu_);
    if (version <= written_) return Status::Ok();
    const auto start = std::chrono::steady_clock::now();
    Status s = WriteFile(path_, file.File());
    if (s.ok()) written_ = version;
    last_duration_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start);
    return s;
  }

  // Something queued or being written.
  bool busy() const { return busy_; }
  // How long the last write took.
  std::chrono::nanoseconds last_duration() const { return last_duration_; }
  uint64_t failures() const { return failures_; }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      changed_.wait(lock, [this] { return stopping_ || pending_.has_value(); });
      if (!pending_) return;  // stopping, nothing left to write
      auto [version, file] = std::move(*pending_);
      pending_.reset();
      lock.unlock();
      Status s = WriteNow(version, file);
      lock.lock();
      if (!s.ok()) {
        ++failures_;
        if (stopping_) {
          LOG(ERROR) << s.message() << "; the registry's last changes are lost";
          return;
        }
        LOG(ERROR) << s.message() << "; retrying in 1s";
        if (!pending_) pending_.emplace(version, std::move(file));
        changed_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        continue;
      }
      busy_ = pending_.has_value();
    }
  }

  const std::string path_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::optional<std::pair<uint64_t, Snapshot>> pending_;
  bool stopping_ = false;
  std::atomic<bool> busy_{false};
  std::atomic<uint64_t> failures_{0};
  std::atomic<std::chrono::nanoseconds> last_duration_{std::chrono::nanoseconds(0)};
  std::mutex write_mu_;
  uint64_t written_ = 0;
  std::thread thread_;
};

Registry::Registry(std::string path)
    : path_(std::move(path)), writer_(std::make_unique<Writer>(path_)) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;

Registry::~Registry() {
  if (!writer_) return;  // moved from
  flush_timer_.reset();
  if (dirty_) writer_->Post(++version_, Take(weights_, quotas_, schedule_));
  writer_.reset();  // writes what is queued, then stops
}

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
  const auto bad = [&](const std::string& what) {
    return Status::Error("registry " + registry.path_ + ": " + what);
  };
  auto weights = ReadWeights(file.weights(), "weights");
  if (!weights.ok()) return bad(weights.status().message());
  auto quotas = ReadQuotaConfigs(file.quotas(), "quotas");
  if (!quotas.ok()) return bad(quotas.status().message());
  if (auto why = ValidateMaintenanceSchedule(file.maintenance_schedule())) {
    return bad("maintenance_schedule: " + *why);
  }
  for (int i = 0; i < file.agents_size(); ++i) {
    const auto& agent = file.agents(i);
    const std::string where = "agents[" + std::to_string(i) + "]";
    if (agent.id().value().empty()) return bad(where + ": no 'id'");
    auto record = std::make_shared<const internal::AdmittedAgent>(agent);
    if (!registry.agents_.emplace(agent.id().value(), std::move(record)).second) {
      return bad(where + ": agent '" + agent.id().value() + "' is named twice");
    }
  }
  for (int i = 0; i < file.frameworks_size(); ++i) {
    const auto& framework = file.frameworks(i);
    const std::string where = "frameworks[" + std::to_string(i) + "]";
    if (framework.id().value().empty()) return bad(where + ": no 'id'");
    if (framework.failover_timeout() < 0) {
      return bad(where + ": 'failover_timeout' is negative");
    }
    auto record = std::make_shared<const v1::FrameworkInfo>(framework);
    if (!registry.frameworks_.emplace(framework.id().value(), std::move(record)).second) {
      return bad(where + ": framework '" + framework.id().value() + "' is named twice");
    }
  }
  registry.schedule_ = file.maintenance_schedule();
  registry.weights_ = std::move(weights).value();
  registry.quotas_ = std::move(quotas).value();
  std::erase_if(registry.quotas_, [](const auto& entry) { return IsDefault(entry.second); });
  return registry;
}

void Registry::Start(boost::asio::io_context& io) {
  flush_timer_ = std::make_unique<runtime::Timer>(io);
  if (dirty_) flush_timer_->Start(kFlushInterval, [this] { Flush(); });
}

Status Registry::SetWeights(const Weights& weights) {
  Weights updated = weights_;
  for (const auto& [role, weight] : weights) updated[role] = weight;
  if (auto s = WriteNow(updated, quotas_, schedule_); !s.ok()) return s;
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
  if (auto s = WriteNow(weights_, updated, schedule_); !s.ok()) return s;
  quotas_ = std::move(updated);
  return Status::Ok();
}

Status Registry::SetMaintenanceSchedule(const internal::MaintenanceSchedule& schedule) {
  if (auto s = WriteNow(weights_, quotas_, schedule); !s.ok()) return s;
  schedule_ = schedule;
  return Status::Ok();
}

void Registry::AdmitAgent(const internal::AdmittedAgent& agent) {
  auto& record = agents_[agent.id().value()];
  if (record && Same(*record, agent)) return;
  record = std::make_shared<const internal::AdmittedAgent>(agent);
  MarkDirty();
}

void Registry::AddFramework(const v1::FrameworkInfo& info) {
  auto& record = frameworks_[info.id().value()];
  if (record && Same(*record, info)) return;
  record = std::make_shared<const v1::FrameworkInfo>(info);
  MarkDirty();
}

void Registry::RemoveFramework(const std::string& framework_id) {
  if (frameworks_.erase(framework_id) > 0) MarkDirty();
}

uint64_t Registry::failed_writes() const { return writer_ ? writer_->failures() : 0; }

std::chrono::nanoseconds Registry::FlushDelay() const {
  // A large registry takes a while to write: its writes are spaced so that
  // the writer thread is busy at most a fifth of the time, leaving the
  // cores to the master (registrations come in faster than a write).
  return std::max<std::chrono::nanoseconds>(kFlushInterval, 4 * writer_->last_duration());
}

void Registry::MarkDirty() {
  dirty_ = true;
  if (flush_timer_ && !flush_timer_->pending()) {
    flush_timer_->Start(FlushDelay(), [this] { Flush(); });
  }
}

void Registry::Flush() {
  if (!dirty_) return;
  // A write still going on (a large registry) takes the next batch when it
  // ends: no snapshot is copied only to be replaced.
  if (writer_->busy()) {
    flush_timer_->Start(FlushDelay(), [this] { Flush(); });
    return;
  }
  dirty_ = false;
  writer_->Post(++version_, Take(weights_, quotas_, schedule_));
}

Registry::Snapshot Registry::Take(const Weights& weights, const Quotas& quotas,
                                  const internal::MaintenanceSchedule& schedule) const {
  Snapshot snapshot;
  WriteWeights(weights, snapshot.policy.mutable_weights());
  WriteQuotaConfigs(quotas, snapshot.policy.mutable_quotas());
  if (schedule.windows_size() > 0) *snapshot.policy.mutable_maintenance_schedule() = schedule;
  snapshot.agents.reserve(agents_.size());
  for (const auto& [id, agent] : agents_) snapshot.agents.push_back(agent);
  snapshot.frameworks.reserve(frameworks_.size());
  for (const auto& [id, framework] : frameworks_) snapshot.frameworks.push_back(framework);
  return snapshot;
}

Status Registry::WriteNow(const Weights& weights, const Quotas& quotas,
                          const internal::MaintenanceSchedule& schedule) {
  const uint64_t version = ++version_;
  if (auto s = writer_->WriteNow(version, Take(weights, quotas, schedule)); !s.ok()) return s;
  dirty_ = false;  // the batched changes went with it
  return Status::Ok();
}

}  // namespace keel::master
