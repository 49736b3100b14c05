// The master's operator endpoints in Mesos's JSON shapes: /master/state (and
// its aliases /state, /state.json, /master/state.json), /master/frameworks,
// /master/slaves and /master/tasks; and POST /master/kill_task (Keel's own).
// Resources are in Mesos's "model" form
// ({"cpus": 2, "mem": 1024, "ports": "[31000-32000]"}), as its UI and tools
// read them.
#pragma once

#include <memory>

namespace keel::http {
class Server;
}

namespace keel::master {

class Master;

void RouteStateEndpoints(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
