// POST /api/v1 (also /master/api/v1): Mesos's v1 operator HTTP API, JSON or
// protobuf both ways. Served so far: GET_WEIGHTS, UPDATE_WEIGHTS, GET_QUOTA
// and UPDATE_QUOTA; any other call type is answered 501 Not Implemented with
// its name.
#pragma once

#include <memory>

namespace keel::http {
class Server;
}

namespace keel::master {

class Master;

void RouteOperatorApi(http::Server& server, std::shared_ptr<Master> master);

}  // namespace keel::master
