// A blocking HTTP/1.1 client connection, just enough for the scheduler API:
// one request at a time, bodies by Content-Length, chunked, or to close.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "keel/status.hpp"

namespace keel::scheduler {

struct HttpHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
};

class HttpChannel {
 public:
  HttpChannel() = default;
  ~HttpChannel();
  HttpChannel(const HttpChannel&) = delete;
  HttpChannel& operator=(const HttpChannel&) = delete;

  Status Connect(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);
  bool connected() const { return fd_ >= 0; }
  // Reads block at most this long (0: forever).
  void SetReadTimeout(std::chrono::milliseconds timeout);

  Status Write(const std::string& method, const std::string& target,
               const std::map<std::string, std::string>& headers, const std::string& body);
  // Appends one request, as Write sends it, to `out`: requests pipelined
  // back to back go out in one SendRaw, one system call and as few TCP
  // segments as they fill, rather than one of each per request.
  static void AppendRequest(const std::string& method, const std::string& target,
                            const std::map<std::string, std::string>& headers,
                            const std::string& body, std::string* out);
  // Sends `bytes` whole (requests AppendRequest built).
  Status SendRaw(const std::string& bytes);
  Result<HttpHead> ReadHead();
  // The whole body of a response whose head was read.
  Result<std::string> ReadBody(const HttpHead& head);
  // The next bytes of a streamed (chunked) body; an error at its end.
  Result<std::string> ReadChunk();
  // Whether a whole chunk is buffered already: ReadChunk returns without
  // reading the socket.
  bool ChunkBuffered() const;

  // Unblocks a reader on another thread; the channel is unusable afterwards.
  void Shutdown();
  void Close();

 private:
  Status Fill();  // reads more bytes into buffer_
  Result<std::string> Line();
  // Drops the first `n` unread bytes.
  void Consume(size_t n);
  size_t unread() const { return buffer_.size() - start_; }

  int fd_ = -1;
  // Bytes read and not yet consumed are buffer_[start_, end): consuming a
  // line or a chunk moves start_ instead of shifting the rest of the buffer
  // to its front (a read of a busy event stream holds a hundred events;
  // shifting after each was a copy of the whole buffer per event).
  std::string buffer_;
  size_t start_ = 0;
};

// "host:port" -> parts; errors name the text.
Status SplitHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace keel::scheduler
