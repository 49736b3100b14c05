#include "tools/keelctl/master_client.hpp"

#include "kernel/runtime/json_text.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "tools/keelctl/json_fields.hpp"

namespace keel::keelctl {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr const char* kDefaultMaster = "127.0.0.1:5050";

// "Connection refused" -> "connection refused", to follow a colon.
std::string Lowered(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

std::string FirstLine(const std::string& body) {
  std::string line = Trimmed(body.substr(0, body.find('\n')));
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

Outcome<std::string> SecretOf(const FlagMap& flags) {
  auto secret = flags.find("secret");
  auto file = flags.find("secret_file");
  if (secret != flags.end() && file != flags.end()) {
    return Failure{kExitUsage, "give --secret or --secret_file, not both"};
  }
  if (secret != flags.end()) return secret->second;
  if (file == flags.end()) return std::string();
  std::ifstream in(file->second);
  if (!in) return Failure{kExitUsage, "cannot read the secret file " + file->second};
  std::stringstream text;
  text << in.rdbuf();
  return Trimmed(text.str());  // the file's final newline is no part of the secret
}

}  // namespace

int Report(const Failure& failure) {
  std::cerr << "keelctl: " << failure.message << "\n";
  return failure.exit_code;
}

bool FlagOn(const FlagMap& flags, const std::string& name) {
  auto it = flags.find(name);
  return it != flags.end() && it->second != "false";
}

std::string Endpoint::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Outcome<Endpoint> ParseEndpoint(const std::string& text, const std::string& what) {
  std::string rest = text;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  Failure bad{kExitUsage, what + ": '" + text + "' is not HOST:PORT"};
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return bad;
  Endpoint e;
  e.host = rest.substr(0, colon);
  if (e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  const std::string port = rest.substr(colon + 1);
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad;
  }
  const long number = port.size() > 5 ? 0 : std::atol(port.c_str());
  if (number < 1 || number > 65535 || e.host.empty()) return bad;
  e.port = static_cast<uint16_t>(number);
  return e;
}

Outcome<HttpReply> HttpRequest(const Endpoint& to, const std::string& method,
                               const std::string& target, const std::string& authorization,
                               std::chrono::seconds timeout) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::empty_body> request{bhttp::string_to_verb(method), target, 11};
  request.set(bhttp::field::host, to.ToString());
  request.set(bhttp::field::user_agent, "keelctl");
  if (!authorization.empty()) request.set(bhttp::field::authorization, authorization);
  request.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // /master/state can be big

  std::string error;
  auto fail = [&](const std::string& what, beast::error_code ec) {
    if (ec == beast::error::timeout) {
      error = "no answer within " + std::to_string(timeout.count()) + " s";
    } else {
      error = what + Lowered(ec.message());
    }
  };
  stream.expires_after(timeout);
  resolver.async_resolve(to.host, std::to_string(to.port), [&](beast::error_code ec, auto found) {
    if (ec) return fail("cannot resolve " + to.host + ": ", ec);
    stream.async_connect(found, [&](beast::error_code ec, auto) {
      if (ec) return fail("", ec);
      bhttp::async_write(stream, request, [&](beast::error_code ec, size_t) {
        if (ec) return fail("cannot send the request: ", ec);
        bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec) return fail("no answer: ", ec);
        });
      });
    });
  });
  io.run();
  if (!error.empty()) return Failure{kExitUnreachable, error};
  HttpReply reply;
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  return reply;
}

Outcome<MasterClient> MasterClient::FromFlags(const FlagMap& flags) {
  std::string address = kDefaultMaster;
  std::string what = "the default master";
  if (const char* env = std::getenv("KEEL_MASTER"); env != nullptr && *env != '\0') {
    address = env;
    what = "$KEEL_MASTER";
  }
  if (auto it = flags.find("master"); it != flags.end()) {
    address = it->second;
    what = "--master";
  }
  auto master = ParseEndpoint(address, what);
  if (!master.ok()) return master.failure();
  auto secret = SecretOf(flags);
  if (!secret.ok()) return secret.failure();
  auto principal = flags.find("principal");
  const bool has_principal = principal != flags.end() && !principal->second.empty();
  if (has_principal != !secret->empty()) {
    return Failure{kExitUsage, has_principal ? "--principal needs --secret or --secret_file"
                                             : "--secret needs --principal"};
  }
  std::string authorization;
  if (has_principal) authorization = "Basic " + runtime::Base64(principal->second + ":" + *secret);
  return MasterClient(*master, authorization);
}

Outcome<HttpReply> MasterClient::Call(const std::string& peer, const Endpoint& to,
                                      const std::string& method, const std::string& target) const {
  auto reply = HttpRequest(to, method, target, authorization_);
  if (!reply.ok()) {
    return Failure{kExitUnreachable, "cannot reach the " + peer + " at " + to.ToString() + ": " +
                                         reply.failure().message};
  }
  if (reply->status == 401) {
    return Failure{kExitFailed, authorization_.empty()
                                    ? "the " + peer + " wants credentials: --principal, --secret"
                                    : "the " + peer + " refused the credentials"};
  }
  if (reply->status == 403) {
    return Failure{kExitFailed, "the " + peer + " does not allow " + method + " " + target +
                                    " for these credentials: " + FirstLine(reply->body)};
  }
  return reply;
}

Outcome<std::string> MasterClient::Body(const std::string& peer, const Endpoint& to,
                                        const std::string& target, int not_found) const {
  auto reply = Call(peer, to, "GET", target);
  if (!reply.ok()) return reply.failure();
  if (reply->status / 100 != 2) {
    return Failure{reply->status == 404 ? not_found : kExitFailed,
                   "the " + peer + " at " + to.ToString() + " answered " +
                       std::to_string(reply->status) + " to GET " + target + ": " +
                       FirstLine(reply->body)};
  }
  return std::move(reply->body);
}

Outcome<std::string> MasterClient::GetText(const std::string& target) const {
  // The master's GET endpoints always exist: a 404 is an old master, or no master.
  return Body("master", master_, target, kExitFailed);
}

Outcome<google::protobuf::Struct> MasterClient::GetJson(const std::string& target) const {
  auto body = GetText(target);
  if (!body.ok()) return body.failure();
  return ParseObject(*body, "the master's answer to GET " + target);
}

Outcome<HttpReply> MasterClient::Post(const std::string& target) const {
  return Call("master", master_, "POST", target);
}

Outcome<google::protobuf::Struct> MasterClient::GetAgentJson(const Endpoint& agent,
                                                             const std::string& target) const {
  auto body = Body("agent", agent, target, kExitNotFound);
  if (!body.ok()) return body.failure();
  return ParseObject(*body, "the agent's answer to GET " + target);
}

std::string QueryEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace keel::keelctl
