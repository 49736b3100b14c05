#include "tests/support/record_io_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace keel::test {

RecordIoStream::RecordIoStream(const std::string& host, uint16_t port, const std::string& target,
                               const std::string& body,
                               const std::map<std::string, std::string>& headers) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
  std::string request = "POST " + target + " HTTP/1.1\r\nHost: " + host +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return;
  }
  std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) status_ = std::stoi(status_line.substr(9, 3));
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      headers_[name] = value;
    }
    pos = next + 2;
  }
  // A whole (not chunked) answer: its body is what is left.
  if (headers_["transfer-encoding"] != "chunked") {
    size_t length = headers_.count("content-length") ? std::stoul(headers_["content-length"]) : 0;
    while (buffer_.size() < length && Fill(deadline)) {
    }
    body_ = buffer_;
    buffer_.clear();
  }
}

RecordIoStream::~RecordIoStream() { Close(); }

void RecordIoStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RecordIoStream::Fill(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[4096];
  ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> RecordIoStream::Next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // A whole record in what is de-chunked already?
    size_t newline = body_.find('\n');
    if (newline != std::string::npos) {
      size_t length = std::stoul(body_.substr(0, newline));
      if (body_.size() >= newline + 1 + length) {
        std::string record = body_.substr(newline + 1, length);
        body_.erase(0, newline + 1 + length);
        return record;
      }
    }
    if (headers_["transfer-encoding"] != "chunked") return std::nullopt;
    // De-chunk one chunk: "<hex>\r\n<bytes>\r\n".
    size_t line = buffer_.find("\r\n");
    if (line != std::string::npos) {
      size_t size = std::stoul(buffer_.substr(0, line), nullptr, 16);
      if (size == 0) return std::nullopt;  // the last chunk
      if (buffer_.size() >= line + 2 + size + 2) {
        body_ += buffer_.substr(line + 2, size);
        buffer_.erase(0, line + 2 + size + 2);
        continue;
      }
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

}  // namespace keel::test
