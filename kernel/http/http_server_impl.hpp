// Internal to the HTTP server: the listener, the routes and the live
// connections, shared by the Server handle and its connections.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kernel/http/http_server.hpp"

namespace keel::http {

class Connection;

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(boost::asio::io_context& io, ServerOptions options)
      : io(io), options(std::move(options)), acceptor(io) {}

  void Accept();
  void Handle(const Request& request, Responder responder);
  const std::map<std::string, Handler>* RouteFor(const std::string& path) const;
  void Forget(Connection* connection);

  boost::asio::io_context& io;
  ServerOptions options;
  boost::asio::ip::tcp::acceptor acceptor;
  std::map<std::string, std::map<std::string, Handler>> routes;         // path -> method -> handler
  std::map<std::string, std::map<std::string, Handler>> prefix_routes;  // prefix -> ...
  Gate gate;
  std::mutex mu;  // guards connections
  std::map<Connection*, std::weak_ptr<Connection>> connections;
  std::atomic<bool> stopped{false};
  std::atomic<uint64_t> requests_served{0};
  std::atomic<uint64_t> bad_requests{0};
};

}  // namespace keel::http
