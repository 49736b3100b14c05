// Internal to the HTTP server: one accepted connection and the state shared
// with its Responder and Stream handles.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "kernel/http/http_server.hpp"

namespace keel::http {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<Server::Impl> server);

  void Start();
  // Posted onto the connection's strand by Responder and Stream.
  void SendResponse(Response response, bool keep_alive, unsigned version);
  void StartStream(int status, Headers headers, std::shared_ptr<class StreamImpl> stream);
  // `chunks`: one or more chunks already framed (size line, data, CRLF).
  void SendChunks(std::string chunks);
  void FinishStream();
  void Close();

  boost::asio::strand<boost::asio::any_io_executor>& strand() { return strand_; }

 private:
  // Handles, in order, every whole request the buffer holds, each once the
  // one before it is answered; then reads more. The answers given meanwhile
  // go out together when it has to wait (for bytes or for an answer): a
  // pipelining client's burst of requests costs one read and one write.
  void Serve();
  void ReadMore();
  void OnRead(boost::beast::error_code ec);
  void Dispatch();
  void QueueWrite(std::string bytes, bool close_after);
  // Starts a write of what is queued unless one is in flight (whose end
  // writes the rest).
  void Flush();
  void WriteNext();
  void WatchPeer();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::beast::tcp_stream stream_;
  std::shared_ptr<Server::Impl> server_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::deque<std::pair<std::string, bool>> writes_;  // bytes, close after
  bool writing_ = false;
  // How many of writes_ (from the front) the write in flight carries: all
  // that were queued when it started, gathered into one system call.
  size_t in_flight_ = 0;
  bool closed_ = false;
  // A write that closes the connection is queued: nothing more is read.
  bool closing_ = false;
  // Serve is running a handler: an answer it gives at once is queued for
  // Serve's write, not written by itself.
  bool dispatching_ = false;
  // The request dispatched last has no answer yet.
  bool awaiting_answer_ = false;
  std::shared_ptr<StreamImpl> streaming_;
  std::string remote_;
  std::string local_;
  char peek_[512];
};

class StreamImpl : public Stream, public std::enable_shared_from_this<StreamImpl> {
 public:
  explicit StreamImpl(std::weak_ptr<Connection> connection) : connection_(std::move(connection)) {}
  void Write(std::string data) override;
  void Close() override;
  bool closed() const override { return closed_.load(); }
  void OnClose(std::function<void()> fn) override;

  // On the connection's strand, when it ends.
  void MarkClosed();

 private:
  // The chunks written since the last flush was posted, framed.
  std::string TakePending();

  std::weak_ptr<Connection> connection_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> on_close_;
  // Chunks written and not yet handed to the connection (under mu_), and
  // whether a flush that will hand them over is posted: the events a turn of
  // the master writes to one stream (a burst of updates) cost one post and
  // go out in one piece, not a post and a queued write each.
  std::string pending_;
  bool flush_posted_ = false;
};

struct Responder::State {
  // Strong until the handler answers: an async handler keeps its connection
  // open while it works.
  std::shared_ptr<Connection> connection;
  bool keep_alive = true;
  unsigned version = 11;
  std::atomic<bool> answered{false};
  std::string jsonp;  // a GET's ?jsonp=NAME: JSON answers as NAME(<json>);
  ~State();
};

}  // namespace keel::http
