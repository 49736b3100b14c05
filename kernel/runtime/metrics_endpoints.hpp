// A daemon's metrics over HTTP: GET /metrics/snapshot, Mesos's flat JSON
// object of numbers, and GET /metrics, the same values in Prometheus's text
// format for scrapers.
#pragma once

namespace keel::runtime {

class Daemon;

void RouteMetrics(Daemon& daemon);

}  // namespace keel::runtime
