#include "kernel/master/master_metrics.hpp"

#include <map>
#include <string>

#include "kernel/master/master.hpp"
#include "kernel/runtime/metrics.hpp"

namespace keel::master {

namespace {

void AddResourceGauges(const Resources& total, const Resources& used,
                       std::map<std::string, double>* v) {
  for (const char* name : {"cpus", "gpus", "mem", "disk"}) {
    const double t = total.GetScalar(name).value();
    const double u = used.GetScalar(name).value();
    const std::string key = std::string("master/") + name;
    (*v)[key + "_total"] = t;
    (*v)[key + "_used"] = u;
    (*v)[key + "_percent"] = t > 0 ? u / t : 0;
  }
}

void AddGauges(const Master& m, std::map<std::string, double>* v) {
  auto& values = *v;
  values["master/elected"] = 1;
  values["master/uptime_secs"] = NowSeconds() - m.start_time();

  Resources total;
  double active = 0, inactive = 0, connected = 0, disconnected = 0, unreachable = 0;
  for (const auto& [id, a] : m.agents()) {
    if (!a.reachable) {
      ++unreachable;
      continue;
    }
    total += a.total;
    (a.connected ? connected : disconnected) += 1;
    (a.connected ? active : inactive) += 1;
  }
  values["master/slaves_active"] = active;
  values["master/slaves_inactive"] = inactive;
  values["master/slaves_connected"] = connected;
  values["master/slaves_disconnected"] = disconnected;
  values["master/slaves_unreachable"] = unreachable;

  Resources used;
  std::map<v1::TaskState, double> tasks;
  double frameworks_connected = 0, frameworks_disconnected = 0;
  for (const auto& [id, f] : m.frameworks()) {
    (f.connected() ? frameworks_connected : frameworks_disconnected) += 1;
    for (const auto& [tid, t] : f.tasks) {
      if (!t.resources_recovered) used += t.resources;
      tasks[t.state] += 1;
    }
  }
  AddResourceGauges(total, used, v);
  values["master/frameworks_active"] = frameworks_connected;
  values["master/frameworks_inactive"] = frameworks_disconnected;
  values["master/frameworks_connected"] = frameworks_connected;
  values["master/frameworks_disconnected"] = frameworks_disconnected;
  values["master/outstanding_offers"] = static_cast<double>(m.offers().size());
  values["master/tasks_staging"] = tasks[v1::TASK_STAGING];
  values["master/tasks_starting"] = tasks[v1::TASK_STARTING];
  values["master/tasks_running"] = tasks[v1::TASK_RUNNING];
  values["master/tasks_killing"] = tasks[v1::TASK_KILLING];
  // Counters a cluster that saw none of them still shows, at zero.
  for (const char* state : {"finished", "failed", "killed", "lost", "error", "dropped",
                            "unreachable", "gone", "gone_by_operator"}) {
    values.emplace(std::string("master/tasks_") + state, 0.0);
  }
  // Keel's own.
  values["master/allocation_run_ms"] = m.last_allocation_ms();
  double completed = 0;
  for (const auto& [id, f] : m.frameworks())
    completed += static_cast<double>(f.completed_tasks.size());
  values["master/completed_tasks_kept"] = completed;
}

}  // namespace

void AddMasterGauges(runtime::Metrics& metrics, std::weak_ptr<Master> master) {
  metrics.AddProvider([master](std::map<std::string, double>* values) {
    if (auto m = master.lock()) AddGauges(*m, values);
  });
}

}  // namespace keel::master
