// The master's gauges under Mesos's key names (master/cpus_total,
// master/tasks_running, master/slaves_active ...), computed from its state
// whenever /metrics/snapshot or /metrics is read. Counters (tasks_finished,
// authentication failures ...) are counted where they happen.
#pragma once

#include <memory>

namespace keel::runtime {
class Metrics;
}

namespace keel::master {

class Master;

void AddMasterGauges(runtime::Metrics& metrics, std::weak_ptr<Master> master);

}  // namespace keel::master
