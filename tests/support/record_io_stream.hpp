// Test support: one of Mesos's event streams read as a client reads it: a
// POST answered with a chunked body of RecordIO records ("<length>\n<bytes>"),
// taken one record at a time, so that a test can play an executor (or a
// scheduler) over raw HTTP.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace keel::test {

class RecordIoStream {
 public:
  // Sends the request and reads the answer's head.
  RecordIoStream(const std::string& host, uint16_t port, const std::string& target,
                 const std::string& body, const std::map<std::string, std::string>& headers);
  ~RecordIoStream();
  RecordIoStream(const RecordIoStream&) = delete;
  RecordIoStream& operator=(const RecordIoStream&) = delete;

  int status() const { return status_; }  // 0: no answer
  // Lower-case names.
  const std::map<std::string, std::string>& headers() const { return headers_; }
  // The next record, waiting up to `timeout`; nothing on a timeout or once
  // the stream ended.
  std::optional<std::string> Next(std::chrono::milliseconds timeout);
  // Closes the connection, as a client that goes away.
  void Close();

 private:
  // Reads more bytes into buffer_; false on a timeout or the end.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string buffer_;  // raw bytes not yet decoded
  std::string body_;    // de-chunked bytes not yet split into records
};

}  // namespace keel::test
