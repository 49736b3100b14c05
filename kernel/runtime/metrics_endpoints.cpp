#include "kernel/runtime/metrics_endpoints.hpp"

#include <cctype>
#include <cstdio>
#include <string>

#include "kernel/http/http_server.hpp"
#include "kernel/runtime/daemon.hpp"

namespace keel::runtime {

namespace {

std::string Number(double value) {
  char number[32];
  std::snprintf(number, sizeof(number), "%.15g", value);
  return number;
}

}  // namespace

void RouteMetrics(Daemon& daemon) {
  Metrics& metrics = daemon.metrics();
  daemon.http().Route("GET", "/metrics/snapshot",
                      [&metrics](const http::Request&, http::Responder responder) {
                        std::string json = "{";
                        for (const auto& [key, value] : metrics.Snapshot()) {
                          if (json.size() > 1) json += ",";
                          json += "\"" + key + "\":" + Number(value);
                        }
                        responder.Respond(http::Response::Json(200, json + "}"));
                      });

  // "master/cpus_used" becomes keel_master_cpus_used. Untyped: the snapshot
  // does not tell counters from gauges, and Prometheus accepts that.
  daemon.http().Route(
      "GET", "/metrics", [&metrics](const http::Request&, http::Responder responder) {
        std::string text;
        for (const auto& [key, value] : metrics.Snapshot()) {
          std::string name = "keel_";
          for (char c : key) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
          text += "# TYPE " + name + " untyped\n" + name + " " + Number(value) + "\n";
        }
        http::Response response;
        response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4");
        response.body = std::move(text);
        responder.Respond(std::move(response));
      });
}

}  // namespace keel::runtime
