#include "modules/transport/tcp/tcp_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/write.hpp>

#include "keel/envelope.hpp"

namespace keel::modules {

namespace asio = boost::asio;

namespace {
// Room asked of each read: large enough to take thousands of small frames in
// one system call.
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

TcpConnection::TcpConnection(asio::ip::tcp::socket socket, TcpConnectionOwner* owner,
                             uint64_t max_body_bytes)
    : socket_(std::move(socket)), owner_(owner), decoder_(max_body_bytes) {}

void TcpConnection::Start(std::chrono::seconds keepalive_idle) {
  boost::system::error_code ignored;
  // Heartbeats and small control messages must not wait for Nagle.
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  int fd = socket_.native_handle();
  int idle = static_cast<int>(std::max<int64_t>(1, keepalive_idle.count()));
  int interval = std::max(1, idle / 3);
  int count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  Read();
}

void TcpConnection::Read() {
  size_t room = 0;
  char* at = decoder_.PrepareRead(kReadChunk, &room);
  socket_.async_read_some(
      asio::buffer(at, room), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
        if (self->closed_) return;
        if (ec) {
          if (self->decoder_.buffered() > 0) {
            self->owner_->OnMalformed(*self, "connection ended inside a frame");
          }
          self->Close(ec == asio::error::eof ? "closed by the peer" : ec.message());
          return;
        }
        self->decoder_.CommitRead(n);
        self->last_heard_ = Clock::now();
        self->heard_ = true;
        std::vector<TransportMessage> batch;
        bool framed = self->decoder_.Drain([&](std::string_view body) {
          auto message = DecodeEnvelope(body);
          if (message.ok()) {
            batch.push_back(std::move(message).value());
          } else {
            self->owner_->OnMalformed(*self, message.status().message());
          }
        });
        self->owner_->OnRead(*self, n, std::move(batch));
        if (self->closed_) return;  // the owner may have closed it
        if (!framed) {
          // A length beyond the maximum: nothing after it can be trusted.
          self->owner_->OnMalformed(*self, self->decoder_.error());
          self->Close(self->decoder_.error());
          return;
        }
        self->Read();
      });
}

void TcpConnection::SendControl(const std::string& frame) {
  control_ += frame;
  Flush();
}

void TcpConnection::Flush() {
  if (writing_ || closed_) return;
  writing_control_.swap(control_);
  control_.clear();
  writing_messages_ = peer_.empty() ? 0 : owner_->TakeQueued(peer_, writing_data_);
  if (writing_control_.empty() && writing_data_.empty()) return;
  writing_ = true;
  std::array<asio::const_buffer, 2> buffers = {asio::buffer(writing_control_),
                                               asio::buffer(writing_data_)};
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      size_t messages = std::exchange(self->writing_messages_, 0);
                      size_t bytes = self->writing_data_.size();
                      self->writing_control_.clear();
                      self->writing_data_.clear();
                      if (messages > 0) self->owner_->Written(self->peer_, messages, bytes, !ec);
                      if (ec) {
                        self->Close(ec.message());
                        return;
                      }
                      self->Flush();
                    });
}

void TcpConnection::Close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  owner_->OnClosed(*this, why);
}

}  // namespace keel::modules
