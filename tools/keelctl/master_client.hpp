// keelctl's operator commands talk to the master (and to agents, for
// sandbox files) over HTTP through this one client: it finds the master
// (--master, else $KEEL_MASTER, else 127.0.0.1:5050), sends the operator's
// credentials, and turns every way a request can go wrong into a Failure
// with the exit code the usage text documents.
//
// Blocking, one request per connection, each bounded by a timeout; used from
// keelctl's main thread only.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace keel::keelctl {

// keelctl's exit codes, as the usage text documents them.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,       // the task or the operation failed, or was refused
  kExitUsage = 2,        // bad flags or arguments
  kExitUnreachable = 3,  // cannot reach the master or the agent
  kExitNotFound = 4,     // no such task (or file)
};

// Why a command cannot go on: what to tell the operator and how to exit.
struct Failure {
  int exit_code = kExitFailed;
  std::string message;  // printed after "keelctl: "
};

// Prints "keelctl: <message>" to stderr; returns the failure's exit code.
int Report(const Failure& failure);

// A value or the Failure saying why there is none.
template <typename T>
class Outcome {
 public:
  Outcome(T value) : value_(std::move(value)) {}              // NOLINT: implicit by design
  Outcome(Failure failure) : failure_(std::move(failure)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  // REQUIRES: !ok()
  const Failure& failure() const { return failure_; }
  // REQUIRES: ok()
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Failure failure_;
};

using FlagMap = std::map<std::string, std::string>;

// True when boolean flag `name` was given and not as --no-NAME.
bool FlagOn(const FlagMap& flags, const std::string& name);

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;  // "host:port"
};

// "HOST:PORT" (also "http://HOST:PORT/", "[::1]:5050"); a usage failure
// naming `what` when the text is not one.
Outcome<Endpoint> ParseEndpoint(const std::string& text, const std::string& what);

struct HttpReply {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request on a fresh connection, all of it within `timeout`,
// with `authorization` (if not empty) as its Authorization header. The
// answer, whatever its status, or why there is none ("connection refused",
// "no answer within 10 s") as a kExitUnreachable Failure.
Outcome<HttpReply> HttpRequest(const Endpoint& to, const std::string& method,
                               const std::string& target, const std::string& authorization = "",
                               std::chrono::seconds timeout = std::chrono::seconds(10));

class MasterClient {
 public:
  // From --master, --principal, --secret or --secret_file in `flags` (other
  // flags are ignored). A usage failure for a bad address, a secret without
  // a principal (or the reverse), or an unreadable secret file.
  static Outcome<MasterClient> FromFlags(const FlagMap& flags);

  const Endpoint& master() const { return master_; }

  // The body of the master's 2xx answer to GET `target` (a path with its
  // query, already percent-encoded).
  Outcome<std::string> GetText(const std::string& target) const;
  // The same, parsed as a JSON object.
  Outcome<google::protobuf::Struct> GetJson(const std::string& target) const;
  // POSTs `target` (empty body) to the master; its answer, whatever its
  // status except 401, so the caller can tell what a 404 means for it.
  Outcome<HttpReply> Post(const std::string& target) const;
  // GET `target` on an agent, with the same credentials; a 404 is
  // kExitNotFound.
  Outcome<google::protobuf::Struct> GetAgentJson(const Endpoint& agent,
                                                 const std::string& target) const;

 private:
  MasterClient(Endpoint master, std::string authorization)
      : master_(std::move(master)), authorization_(std::move(authorization)) {}

  // One request; transport failures (kExitUnreachable) and 401s mapped.
  Outcome<HttpReply> Call(const std::string& peer, const Endpoint& to, const std::string& method,
                          const std::string& target) const;
  // A GET; any non-2xx mapped to a Failure: 404 to `not_found`, others to
  // kExitFailed.
  Outcome<std::string> Body(const std::string& peer, const Endpoint& to, const std::string& target,
                            int not_found) const;

  Endpoint master_;
  std::string authorization_;  // "Basic ..." or empty
};

// `text` percent-encoded for a query string value.
std::string QueryEncode(const std::string& text);

}  // namespace keel::keelctl
