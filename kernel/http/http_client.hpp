// A small asynchronous HTTP/1.1 client for daemon-to-daemon calls (the agent
// asking the master where its transport listens). One request per
// connection; no Beast or Asio in this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "keel/status.hpp"
#include "kernel/http/http_server.hpp"

namespace boost::asio {
class io_context;
}

namespace keel::http {

// GETs http://host:port/target and calls `done` on the io_context's thread
// with the response (any status) or why there is none (resolve, connect or
// read failure, or `timeout`).
void Get(boost::asio::io_context& io, const std::string& host, uint16_t port,
         const std::string& target, std::chrono::milliseconds timeout,
         std::function<void(Result<Response>)> done);

}  // namespace keel::http
