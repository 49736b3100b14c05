// Keel's embedded HTTP/1.1 server (Boost.Beast behind a pimpl).
//
// Routes map an exact path (or, failing that, the longest matching prefix
// route) and a method to a handler. A handler gets the
// request and a Responder, and answers once, now or later, from any thread:
// with a whole Response, or by starting a chunked Stream (Mesos's RecordIO
// event streams). Keep-alive, pipelining (answered in order) and chunked
// request bodies are handled here, so handlers see whole requests.
//
// Threading: the server runs on the io_context it is given; each connection
// lives on its own strand. Route() must be called before Start().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace keel::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/master/state?jsonp=x"
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412"
  std::string local_address;   // the address the client reached, "10.0.0.5"
  // Who the request authenticated as; set by the server's gate, "" when the
  // endpoint needs no authentication.
  std::string principal;

  // "" when absent. REQUIRES: `lower_name` is lower case.
  std::string Header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response Text(int status, std::string body);  // text/plain
  static Response Json(int status, std::string body);  // application/json
};

// A chunked response body. All methods are safe from any thread.
class Stream {
 public:
  virtual ~Stream() = default;
  // Sends `data` as one chunk; dropped once the stream is closed.
  virtual void Write(std::string data) = 0;
  // Sends the last chunk and closes the connection.
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  // Called once, on the io thread, when the peer goes away or Close() ran.
  virtual void OnClose(std::function<void()> fn) = 0;
};

class Responder {
 public:
  struct State;
  explicit Responder(std::shared_ptr<State> state);

  // Answers JSON as JavaScript, `callback(<json>);` (Mesos's ?jsonp=).
  void WrapJsonIn(std::string callback);
  // Exactly one of these, once. A Responder dropped unanswered sends 500.
  void Respond(Response response);
  std::shared_ptr<Stream> StartStream(int status, Headers headers);

 private:
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(const Request&, Responder)>;

// Runs before the handler of every request that has one: returns true to let
// the request through (it may set `request.principal`), or false when it
// answers `responder` itself, now or later (authentication refused).
using Gate = std::function<bool(Request& request, Responder& responder)>;

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // 0: any free port
  size_t max_body_bytes = 8 << 20;
  std::chrono::seconds idle_timeout{75};
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `method` "*" matches any method.
  void Route(std::string method, std::string path, Handler handler);
  // Paths that start with `prefix` and have no exact route: paths that carry
  // a name, as DELETE /quota/<role>.
  void RoutePrefix(std::string method, std::string prefix, Handler handler);
  // At most one gate; before Start().
  void SetGate(Gate gate);
  // Binds and listens; returns "" or an error naming address and port.
  std::string Start();
  uint16_t port() const;
  // Closes the listener and every connection. Idempotent.
  void Stop();

  uint64_t requests_served() const;
  uint64_t bad_requests() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace keel::http
