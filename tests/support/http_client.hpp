// Test support: a blocking HTTP/1.1 client over a plain socket, so tests talk
// to the daemons exactly as any client would.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace keel::test {

struct HttpResult {
  int status = 0;                              // 0: no connection or no answer
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

HttpResult HttpRequest(const std::string& host, uint16_t port, const std::string& method,
                       const std::string& target, const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});

// Polls GET `target` until it answers `status` or `timeout_ms` passes.
bool WaitForHttp(const std::string& host, uint16_t port, const std::string& target, int status,
                 int timeout_ms);

}  // namespace keel::test
