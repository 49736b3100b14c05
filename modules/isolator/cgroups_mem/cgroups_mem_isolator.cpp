#include "modules/isolator/cgroups_mem/cgroups_mem_isolator.hpp"

#include <sstream>

namespace keel::modules {
namespace {

constexpr uint64_t kKB = 1024, kMB = kKB * 1024, kGB = kMB * 1024, kTB = kGB * 1024;
// v1 writes "no limit" as a number near 2^63; v2 as "max".
constexpr uint64_t kUnlimited = 1ull << 62;

std::vector<ControllerMount> MemoryMounts(const ModuleContext& context) {
  return {FindControllerOrThrow(ReadCgroupsParameters(context.parameters()), "memory")};
}

// A limit file's value: a number, or nothing for "max" or v1's "unlimited".
std::optional<uint64_t> ParseLimit(const std::string& text) {
  uint64_t value = 0;
  if (!(std::istringstream(text) >> value) || value >= kUnlimited) return std::nullopt;
  return value;
}

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  if (bytes == 0 || bytes % kKB != 0) return std::to_string(bytes) + "B";
  if (bytes % kMB != 0) return std::to_string(bytes / kKB) + "KB";
  if (bytes % kGB != 0) return std::to_string(bytes / kMB) + "MB";
  if (bytes % kTB != 0) return std::to_string(bytes / kGB) + "GB";
  return std::to_string(bytes / kTB) + "TB";
}

CgroupsMemIsolator::CgroupsMemIsolator(ModuleContext& context)
    : CgroupsIsolator(context, MemoryMounts(context)),
      v2_(MountOf("memory").version == CgroupVersion::kV2),
      self_(std::make_shared<CgroupsMemIsolator*>(this)) {}

CgroupsMemIsolator::~CgroupsMemIsolator() { watcher_.reset(); }

Status CgroupsMemIsolator::ApplyLimits(const ContainerId& id, const Resources& resources,
                                       bool first) {
  if (resources.Names().count("mem") == 0) return Status::Ok();
  const uint64_t mb_millis =
      static_cast<uint64_t>(std::max<int64_t>(resources.GetScalar("mem").millis(), 0));
  const uint64_t bytes = std::max(mb_millis * kMB / 1000, kMinMemoryBytes);
  const Cgroup cgroup = CgroupOf(id, "memory");
  const char* hard_file = v2_ ? "memory.max" : "memory.limit_in_bytes";

  if (v2_) {
    if (first) {
      if (Status s = cgroup.Write("memory.high", "max"); !s.ok()) return Fail(id, s.message());
    }
  } else if (Status s = cgroup.Write("memory.soft_limit_in_bytes", std::to_string(bytes));
             !s.ok()) {
    return Fail(id, s.message());
  }

  if (!first) {
    Result<std::string> current = cgroup.Read(hard_file);
    if (!current.ok()) return Fail(id, current.status().message());
    // No limit yet (the container had no mem before): set it, as the first
    // time. Otherwise only ever raise it.
    std::optional<uint64_t> limit = ParseLimit(*current);
    if (limit && bytes <= *limit) {
      if (bytes < *limit) {
        context().Log(LogLevel::kInfo, "container '" + id + "': keeping " + hard_file + " at " +
                                           FormatBytes(*limit) + " instead of lowering it to " +
                                           FormatBytes(bytes) +
                                           " (lowering could OOM-kill the running task)");
      }
      return Status::Ok();
    }
  }
  if (Status s = cgroup.Write(hard_file, std::to_string(bytes)); !s.ok()) {
    return Fail(id, s.message());
  }
  return Status::Ok();
}

Status CgroupsMemIsolator::Measure(const ContainerId& id, const Resources&,
                                   ResourceStatistics* stats) {
  const Cgroup cgroup = CgroupOf(id, "memory");
  auto stat = cgroup.ReadFlatKeyed("memory.stat");
  if (!stat.ok()) return Fail(id, stat.status().message());
  stats->mem_rss_bytes = stat.value()[v2_ ? "anon" : "total_rss"];
  Result<std::string> limit = cgroup.Read(v2_ ? "memory.max" : "memory.limit_in_bytes");
  if (!limit.ok()) return Fail(id, limit.status().message());
  if (std::optional<uint64_t> bytes = ParseLimit(*limit)) stats->mem_limit_bytes = *bytes;
  return Status::Ok();
}

std::optional<uint64_t> CgroupsMemIsolator::OomKills(const ContainerId& id) const {
  const Cgroup cgroup = CgroupOf(id, "memory");
  auto counters = cgroup.ReadFlatKeyed(v2_ ? "memory.events" : "memory.oom_control");
  if (!counters.ok()) return std::nullopt;
  auto it = counters->find("oom_kill");
  if (it != counters->end()) return it->second;
  // v1 before Linux 4.13 has no oom_kill line: an OOM in progress is one.
  if (!v2_) {
    auto under = counters->find("under_oom");
    if (under != counters->end()) return under->second;
  }
  return std::nullopt;
}

bool CgroupsMemIsolator::LimitWasHit(const ContainerId& id) const {
  const Cgroup cgroup = CgroupOf(id, "memory");
  if (v2_) {
    auto events = cgroup.ReadFlatKeyed("memory.events");
    return events.ok() && events.value()["max"] > 0;
  }
  Result<std::string> failcnt = cgroup.Read("memory.failcnt");
  uint64_t count = 0;
  return failcnt.ok() && (std::istringstream(*failcnt) >> count) && count > 0;
}

Status CgroupsMemIsolator::OnPrepared(const ContainerId& id) {
  if (!watcher_) {
    std::weak_ptr<CgroupsMemIsolator*> weak = self_;
    ModuleContext* context = &this->context();
    watcher_ = std::make_unique<OomWatcher>([weak, context](uint64_t token) {
      // On the watcher's thread: hop to the core strand.
      context->Post([weak, token] {
        if (auto self = weak.lock()) (*self)->OnOomEvent(token);
      });
    });
  }
  if (Status s = watcher_->Start(); !s.ok()) return Fail(id, "OOM watcher: " + s.message());
  Result<uint64_t> token = watcher_->Watch(CgroupOf(id, "memory"));
  if (!token.ok()) return Fail(id, "cannot watch for OOM: " + token.status().message());
  OomState& oom = ooms_[id];
  oom.token = *token;
  oom.kills_before = OomKills(id).value_or(0);
  ids_by_token_[*token] = id;
  return Status::Ok();
}

Status CgroupsMemIsolator::OnRecovered(const ContainerId& id) {
  if (Status s = OnPrepared(id); !s.ok()) return s;
  ooms_[id].kills_before = 0;
  return Status::Ok();
}

void CgroupsMemIsolator::Watch(const ContainerId& id,
                               std::function<void(const ContainerLimitation&)> on_limit) {
  auto it = ooms_.find(id);
  if (it == ooms_.end()) return;
  it->second.on_limit = std::move(on_limit);
  if (it->second.seen && !it->second.reported) {
    // An OOM came before anyone listened: report it, but not from inside
    // this call.
    std::weak_ptr<CgroupsMemIsolator*> weak = self_;
    context().Post([weak, token = it->second.token] {
      if (auto self = weak.lock()) (*self)->OnOomEvent(token);
    });
  }
}

void CgroupsMemIsolator::OnOomEvent(uint64_t token) {
  auto by_token = ids_by_token_.find(token);
  if (by_token == ids_by_token_.end()) return;  // cleaned up meanwhile
  const ContainerId id = by_token->second;
  OomState& oom = ooms_[id];
  // v1's event comes only from an OOM at the cgroup's own limit; v2's
  // oom_kill also counts kills by a global OOM, which is not this limit.
  if (v2_ && !LimitWasHit(id)) return;
  oom.seen = true;
  if (oom.reported || !oom.on_limit) return;
  Report(id, oom);
}

void CgroupsMemIsolator::OnCleanup(const ContainerId& id) {
  auto it = ooms_.find(id);
  if (it == ooms_.end()) return;
  OomState& oom = it->second;
  if (!oom.reported && oom.on_limit) {
    // The OOM event may still be on its way while the killed task has
    // already been reaped: the counter tells.
    std::optional<uint64_t> kills = OomKills(id);
    if (oom.seen || (kills && *kills > oom.kills_before && LimitWasHit(id))) Report(id, oom);
  }
  if (watcher_) watcher_->Unwatch(oom.token);
  ids_by_token_.erase(oom.token);
  ooms_.erase(it);
}

std::string CgroupsMemIsolator::DescribeLimitExceeded(const ContainerId& id) const {
  const Cgroup cgroup = CgroupOf(id, "memory");
  std::string message = "Memory limit exceeded: ";
  if (auto limit = cgroup.Read(v2_ ? "memory.max" : "memory.limit_in_bytes"); limit.ok()) {
    if (auto bytes = ParseLimit(*limit)) message += "Requested: " + FormatBytes(*bytes) + " ";
  }
  Result<std::string> peak =
      v2_ ? cgroup.Read("memory.peak") : cgroup.Read("memory.max_usage_in_bytes");
  if (!peak.ok() && v2_) peak = cgroup.Read("memory.current");  // memory.peak is Linux 5.19+
  if (peak.ok()) {
    if (auto bytes = ParseLimit(*peak)) message += "Maximum Used: " + FormatBytes(*bytes);
  }
  if (auto stat = cgroup.ReadFlatKeyed("memory.stat"); stat.ok()) {
    static const char* const kV1Keys[] = {"total_rss", "total_cache", "total_mapped_file",
                                          "total_swap", "total_unevictable"};
    static const char* const kV2Keys[] = {"anon", "file", "kernel", "shmem", "sock"};
    message += "\n\nMEMORY STATISTICS: \n";
    for (const char* key : v2_ ? kV2Keys : kV1Keys) {
      auto value = stat->find(key);
      if (value != stat->end())
        message += std::string(key) + " " + std::to_string(value->second) + "\n";
    }
  }
  return message;
}

void CgroupsMemIsolator::Report(const ContainerId& id, OomState& oom) {
  oom.reported = true;
  ContainerLimitation limitation{"REASON_CONTAINER_LIMITATION_MEMORY", DescribeLimitExceeded(id)};
  context().IncrementCounter("oom_limitations");
  context().Log(LogLevel::kInfo, "container '" + id + "': " +
                                     limitation.message.substr(0, limitation.message.find('\n')));
  // A copy: the callback may end the container, and with it this state.
  auto on_limit = oom.on_limit;
  on_limit(limitation);
}

}  // namespace keel::modules
