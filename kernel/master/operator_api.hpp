// POST /api/v1 (also /master/api/v1): Mesos's v1 operator HTTP API, JSON or
// protobuf both ways. Served: GET_HEALTH, GET_FLAGS, GET_VERSION,
// GET_METRICS, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_EXECUTORS,
// GET_TASKS (operator_reads.cpp), SUBSCRIBE (operator_events.cpp), GET_WEIGHTS, UPDATE_WEIGHTS,
// GET_QUOTA and UPDATE_QUOTA; any other call type is answered 501 Not Implemented with its name.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace keel::http {
class Server;
}
namespace keel::runtime {
class Metrics;
}

namespace keel::master {

class Master;

struct OperatorApiContext {
  std::map<std::string, std::string> flags;  // the effective config, for GET_FLAGS
  runtime::Metrics* metrics;                 // for GET_METRICS
};

void RouteOperatorApi(http::Server& server, std::shared_ptr<Master> master,
                      OperatorApiContext context);

}  // namespace keel::master
