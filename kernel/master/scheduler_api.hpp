// POST /api/v1/scheduler (also /master/api/v1/scheduler): Mesos's v1
// scheduler HTTP API. This layer checks the request (method, media types,
// body, the call's shape) with Mesos's status codes and reasons, then hands
// the call to the Master.
#pragma once

#include <memory>

namespace keel::http {
class Server;
}

namespace keel::master {

class Master;

void RouteSchedulerApi(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
