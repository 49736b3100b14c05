#include "kernel/http/http_server.hpp"

#include <cctype>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "kernel/http/http_connection.hpp"
#include "kernel/http/http_server_impl.hpp"

namespace keel::http {

namespace asio = boost::asio;

std::string Request::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? "" : it->second;
}

Response Response::Text(int status, std::string body) {
  return Response{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)};
}

Response Response::Json(int status, std::string body) {
  return Response{status, {{"Content-Type", "application/json"}}, std::move(body)};
}

void Server::Impl::Accept() {
  acceptor.async_accept(
      asio::make_strand(io),
      [self = shared_from_this()](boost::system::error_code ec, asio::ip::tcp::socket socket) {
        if (self->stopped) return;
        if (!ec) {
          auto connection = std::make_shared<Connection>(std::move(socket), self);
          {
            std::lock_guard<std::mutex> lock(self->mu);
            self->connections[connection.get()] = connection;
          }
          connection->Start();
        }
        self->Accept();
      });
}

// The handlers by method of the route for `path`: its exact route, else the
// longest prefix route it starts with; null when none.
const std::map<std::string, Handler>* Server::Impl::RouteFor(const std::string& path) const {
  if (auto exact = routes.find(path); exact != routes.end()) return &exact->second;
  const std::map<std::string, Handler>* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, methods] : prefix_routes) {
    if (path.starts_with(prefix) && (best == nullptr || prefix.size() > best_length)) {
      best = &methods;
      best_length = prefix.size();
    }
  }
  return best;
}

namespace {

// A JavaScript name for ?jsonp=: letters, digits, `_`, `$` and `.`, so the
// answer can call it and nothing else.
bool IsCallbackName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '_' && c != '$' && c != '.') return false;
  }
  return !std::isdigit(static_cast<unsigned char>(name[0]));
}

}  // namespace

void Server::Impl::Handle(const Request& request, Responder responder) {
  if (request.method == "GET") {
    if (auto jsonp = request.query.find("jsonp"); jsonp != request.query.end()) {
      if (!IsCallbackName(jsonp->second)) {
        responder.Respond(Response::Text(400, "'jsonp' must be a JavaScript name\n"));
        return;
      }
      responder.WrapJsonIn(jsonp->second);
    }
  }
  const std::map<std::string, Handler>* methods = RouteFor(request.path);
  if (methods == nullptr) {
    responder.Respond(Response::Text(404, "no such endpoint: " + request.path + "\n"));
    return;
  }
  auto handler = methods->find(request.method);
  if (handler == methods->end()) handler = methods->find("*");
  if (handler == methods->end()) {
    std::string allow;
    for (const auto& [method, h] : *methods) allow += (allow.empty() ? "" : ", ") + method;
    Response r = Response::Text(
        405, request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")\n");
    r.headers.emplace_back("Allow", allow);
    responder.Respond(std::move(r));
    return;
  }
  try {
    if (gate) {
      Request admitted = request;
      if (!gate(admitted, responder)) return;
      handler->second(admitted, responder);
      return;
    }
    handler->second(request, responder);
  } catch (const std::exception& e) {
    responder.Respond(Response::Text(500, std::string("internal error: ") + e.what() + "\n"));
  }
}

void Server::Impl::Forget(Connection* connection) {
  std::lock_guard<std::mutex> lock(mu);
  connections.erase(connection);
}

Server::Server(asio::io_context& io, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

Server::~Server() { Stop(); }

void Server::Route(std::string method, std::string path, Handler handler) {
  impl_->routes[std::move(path)][std::move(method)] = std::move(handler);
}

void Server::RoutePrefix(std::string method, std::string prefix, Handler handler) {
  impl_->prefix_routes[std::move(prefix)][std::move(method)] = std::move(handler);
}

void Server::SetGate(Gate gate) { impl_->gate = std::move(gate); }

std::string Server::Start() {
  boost::system::error_code ec;
  const std::string where = impl_->options.address + ":" + std::to_string(impl_->options.port);
  auto address = asio::ip::make_address(impl_->options.address, ec);
  if (ec) return "cannot listen on " + where + ": bad address";
  asio::ip::tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on " + where + ": " + ec.message();
  impl_->Accept();
  return "";
}

uint16_t Server::port() const {
  boost::system::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void Server::Stop() {
  if (impl_->stopped.exchange(true)) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [raw, weak] : impl_->connections) {
      if (auto c = weak.lock()) live.push_back(c);
    }
  }
  for (auto& c : live) asio::post(c->strand(), [c] { c->Close(); });
}

uint64_t Server::requests_served() const { return impl_->requests_served; }
uint64_t Server::bad_requests() const { return impl_->bad_requests; }

}  // namespace keel::http
