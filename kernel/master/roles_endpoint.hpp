// Mesos's GET /master/roles (also /roles, /roles.json, /master/roles.json):
// every role the master knows of (one a framework subscribed with, one with
// a weight or a quota set, one holding offers or tasks), each as
//   {"name", "weight", "frameworks": [ids], "resources": {...},
//    "allocated": {...}, "offered": {...},
//    "quota": {"role", "guarantee": {...}, "limit": {...}, "consumed": {...}}}
// with resources in Mesos's model form ({"cpus": 1, "mem": 128, ...});
// `resources` is what the role and its sub-roles consume (offered and used),
// as Mesos has it.
#pragma once

#include <memory>

namespace keel::http {
class Server;
}

namespace keel::master {

class Master;

void RouteRolesEndpoint(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
