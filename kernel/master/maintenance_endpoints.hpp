// Mesos's maintenance schedule, also without the /master prefix:
//   GET  /master/maintenance/schedule   the schedule as Mesos's
//                                       maintenance::Schedule JSON ({} when
//                                       none)
//   POST /master/maintenance/schedule   replaces it (200), or 400 with the
//                                       reason; an empty schedule clears it
// The schedule is kept in the master's registry, so it survives a restart.
// It is stored and served only: Keel makes no inverse offers and does not
// drain or take down the machines it names (no /maintenance/status, no
// /machine/down|up yet).
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace keel::http {
class Server;
}
namespace keel::internal {
class MaintenanceSchedule;
}

namespace keel::master {

class Master;

// Mesos's checks of a schedule: every window names at least one machine,
// every machine a hostname or a valid IPv4 address, no machine twice in the
// schedule (hostnames compared case-insensitively), no negative duration.
// The reason of the first failure, or nothing.
std::optional<std::string> ValidateMaintenanceSchedule(const internal::MaintenanceSchedule& s);

void RouteMaintenanceEndpoints(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
