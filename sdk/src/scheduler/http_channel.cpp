#include "http_channel.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace keel::scheduler {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Status SplitHostPort(const std::string& text, std::string* host, uint16_t* port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::Error("master '" + text + "': expected HOST:PORT");
  }
  *host = text.substr(0, colon);
  try {
    size_t used = 0;
    int p = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || p <= 0 || p > 65535) throw std::out_of_range("port");
    *port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return Status::Error("master '" + text + "': bad port");
  }
  return Status::Ok();
}

HttpChannel::~HttpChannel() { Close(); }

Status HttpChannel::Connect(const std::string& host, uint16_t port,
                            std::chrono::milliseconds timeout) {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return Status::Error("cannot resolve " + host + ": " + ::gai_strerror(rc));
  }
  std::string error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      break;
    }
    error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return Status::Error("cannot connect to " + host + ":" + service + ": " + error);
  buffer_.clear();
  start_ = 0;
  return Status::Ok();
}

void HttpChannel::SetReadTimeout(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

void HttpChannel::AppendRequest(const std::string& method, const std::string& target,
                                const std::map<std::string, std::string>& headers,
                                const std::string& body, std::string* out) {
  out->append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& [k, v] : headers) out->append(k).append(": ").append(v).append("\r\n");
  out->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out->append(body);
}

Status HttpChannel::Write(const std::string& method, const std::string& target,
                          const std::map<std::string, std::string>& headers,
                          const std::string& body) {
  std::string request;
  AppendRequest(method, target, headers, body, &request);
  return SendRaw(request);
}

Status HttpChannel::SendRaw(const std::string& bytes) {
  if (fd_ < 0) return Status::Error("not connected");
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Error(std::string("cannot send: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status HttpChannel::Fill() {
  if (fd_ < 0) return Status::Error("connection closed");
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 0 && start_ >= buffer_.size() / 2) {
    // Mostly consumed: the rest moves to the front once, not per record.
    buffer_.erase(0, start_);
    start_ = 0;
  }
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      return Status::Ok();
    }
    if (n == 0) return Status::Error("connection closed by the master");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Error("timed out reading");
    return Status::Error(std::string("cannot read: ") + std::strerror(errno));
  }
}

void HttpChannel::Consume(size_t n) { start_ += n; }

Result<std::string> HttpChannel::Line() {
  size_t end;
  // Searched from where the last search stopped, so a line that arrives in
  // many reads is not scanned again from its start each time.
  size_t from = start_;
  while ((end = buffer_.find("\r\n", from)) == std::string::npos) {
    if (unread() > (1 << 20)) return Status::Error("line too long");
    const size_t scanned = unread() > 0 ? unread() - 1 : 0;  // a '\r' may end it
    if (auto s = Fill(); !s.ok()) return s;
    from = start_ + scanned;
  }
  std::string line = buffer_.substr(start_, end - start_);
  Consume(end + 2 - start_);
  return line;
}

Result<HttpHead> HttpChannel::ReadHead() {
  auto status_line = Line();
  if (!status_line.ok()) return status_line.status();
  HttpHead head;
  if (status_line->rfind("HTTP/1.", 0) != 0 || status_line->size() < 12) {
    return Status::Error("not an HTTP response: '" + *status_line + "'");
  }
  head.status = std::atoi(status_line->c_str() + 9);
  for (;;) {
    auto line = Line();
    if (!line.ok()) return line.status();
    if (line->empty()) break;
    auto colon = line->find(':');
    if (colon == std::string::npos) continue;
    std::string value = line->substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    head.headers[Lower(line->substr(0, colon))] = value;
  }
  return head;
}

Result<std::string> HttpChannel::ReadBody(const HttpHead& head) {
  auto te = head.headers.find("transfer-encoding");
  if (te != head.headers.end() && Lower(te->second).find("chunked") != std::string::npos) {
    std::string body;
    for (;;) {
      auto chunk = ReadChunk();
      if (!chunk.ok()) {
        if (chunk.status().message() == "end of stream") return body;
        return chunk.status();
      }
      body += *chunk;
    }
  }
  auto cl = head.headers.find("content-length");
  if (cl == head.headers.end()) {
    while (Fill().ok()) {
    }
    std::string body = buffer_.substr(start_);
    buffer_.clear();
    start_ = 0;
    return body;
  }
  const size_t length = std::strtoull(cl->second.c_str(), nullptr, 10);
  while (unread() < length) {
    if (auto s = Fill(); !s.ok()) return s;
  }
  std::string body = buffer_.substr(start_, length);
  Consume(length);
  return body;
}

Result<std::string> HttpChannel::ReadChunk() {
  auto size_line = Line();
  if (!size_line.ok()) return size_line.status();
  const size_t size = std::strtoull(size_line->c_str(), nullptr, 16);
  if (size == 0) {
    (void)Line();  // the empty line after the last chunk
    return Status::Error("end of stream");
  }
  while (unread() < size + 2) {
    if (auto s = Fill(); !s.ok()) return s;
  }
  std::string chunk = buffer_.substr(start_, size);
  Consume(size + 2);
  return chunk;
}

bool HttpChannel::ChunkBuffered() const {
  const size_t eol = buffer_.find("\r\n", start_);
  if (eol == std::string::npos) return false;
  const size_t size = std::strtoull(buffer_.c_str() + start_, nullptr, 16);
  return buffer_.size() - eol - 2 >= size + 2;  // the data and its CRLF
}

void HttpChannel::Shutdown() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void HttpChannel::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  start_ = 0;
}

}  // namespace keel::scheduler
