// Mesos's legacy operator endpoints for roles' weights and quotas, also
// under /master/:
//   GET  /weights          the weights set, a JSON array of WeightInfo
//   PUT  /weights          sets weights; body: a JSON array of WeightInfo
//   GET  /quota            QuotaStatus JSON (configs, and legacy infos)
//   POST /quota            {"role", "guarantee": [Resource...], "force"}:
//                          a quota for a role that has none, its limits
//                          equal to its guarantee (as Mesos 1.9+)
//   DELETE /quota/<role>   gives the role the default quota back
// They share the operator API's checks and the registry.
#pragma once

#include <memory>

namespace keel::http {
class Server;
}

namespace keel::master {

class Master;

void RouteWeightsAndQuotaEndpoints(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
