#include "kernel/http/http_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <vector>

#include "kernel/http/http_server_impl.hpp"

namespace keel::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

namespace {

// Appended piece by piece into the caller's string: a response head is
// built once per request, and temporaries of `+` were most of its cost.
void AppendStatusLine(int status, unsigned version, std::string* out) {
  out->append("HTTP/").append(std::to_string(version / 10)).append(".");
  out->append(std::to_string(version % 10)).append(" ").append(std::to_string(status));
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  out->append(" ").append(reason.data(), reason.size()).append("\r\n");
}

void AppendHeader(std::string_view name, std::string_view value, std::string* out) {
  out->append(name).append(": ").append(value).append("\r\n");
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool HasHeader(const Headers& headers, std::string_view lower) {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, beast::string_view(lower.data(), lower.size()))) return true;
  }
  return false;
}

std::string DecodePercent(std::string_view in, bool plus_is_space) {
  if (in.find_first_of(plus_is_space ? "%+" : "%") == std::string_view::npos) {
    return std::string(in);  // the common case: nothing to decode
  }
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(in[i + 1]) && std::isxdigit(in[i + 2])) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::shared_ptr<Server::Impl> server)
    : strand_(asio::make_strand(socket.get_executor())),
      stream_(std::move(socket)),
      server_(std::move(server)) {
  beast::error_code ec;
  auto ep = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  auto local = stream_.socket().local_endpoint(ec);
  if (!ec) local_ = local.address().to_string();
  // Answers and events go out as soon as they are written, not held by
  // Nagle's algorithm for the client's delayed ACK (40 ms): writes are
  // already gathered into as few system calls as there are turns.
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

void Connection::Start() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->Serve(); });
}

void Connection::Serve() {
  while (!closed_ && !closing_) {
    if (!parser_) {
      parser_.emplace();
      parser_->body_limit(server_->options.max_body_bytes);
      // The whole message (header and body) in one put when it is here.
      parser_->eager(true);
      stream_.expires_after(server_->options.idle_timeout);
    }
    beast::error_code ec;
    while (buffer_.size() > 0 && !parser_->is_done()) {
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec) break;
    }
    if (ec) {
      Flush();
      OnRead(ec);
      return;
    }
    if (!parser_->is_done()) {
      Flush();
      ReadMore();
      return;
    }
    awaiting_answer_ = true;
    dispatching_ = true;
    Dispatch();
    dispatching_ = false;
    if (awaiting_answer_) {
      // Answered later (or a stream): SendResponse resumes.
      Flush();
      return;
    }
  }
  Flush();
}

void Connection::ReadMore() {
  // Room for many requests: a pipelining client's burst is read in one
  // system call. (beast's read size for an empty flat_buffer is 512 bytes,
  // two acknowledgements, and Serve answered and wrote per read.)
  constexpr size_t kReadBytes = 16384;
  stream_.async_read_some(
      buffer_.prepare(kReadBytes),
      asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t n) {
        if (self->closed_) return;
        if (!ec) {
          self->buffer_.commit(n);
          self->Serve();
          return;
        }
        if (ec == asio::error::eof && self->parser_ && self->parser_->got_some()) {
          // The peer stopped in the middle of a request (beast's read does
          // the same): malformed.
          beast::error_code partial;
          self->parser_->put_eof(partial);
          ec = partial ? partial : beast::error_code(bhttp::error::partial_message);
        }
        self->OnRead(ec);
      }));
}

void Connection::OnRead(beast::error_code ec) {
  if (closed_) return;
  parser_.reset();
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::operation_aborted || ec == beast::error::timeout ||
      ec == asio::error::connection_reset) {
    Close();
    return;
  }
  if (ec == bhttp::error::body_limit) {
    server_->bad_requests++;
    SendResponse(
        Response::Text(413, "request body larger than " +
                                std::to_string(server_->options.max_body_bytes) + " bytes\n"),
        false, 11);
    return;
  }
  server_->bad_requests++;
  SendResponse(Response::Text(400, "malformed HTTP request: " + ec.message() + "\n"), false, 11);
}

void Connection::Dispatch() {
  auto& msg = parser_->get();
  Request request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  std::string_view target = request.target;
  auto q = target.find('?');
  request.path = DecodePercent(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      auto eq = pair.find('=');
      request.query[DecodePercent(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : DecodePercent(pair.substr(eq + 1), true);
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
  }
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = AsciiLower(c);
    request.headers.insert_or_assign(std::move(name), std::string(field.value()));
  }
  request.body = std::move(msg.body());
  request.remote_address = remote_;
  request.local_address = local_;

  auto state = std::make_shared<Responder::State>();
  state->connection = shared_from_this();
  state->keep_alive = msg.keep_alive();
  state->version = msg.version();
  parser_.reset();  // the next request gets a fresh one
  server_->requests_served++;
  server_->Handle(request, Responder(std::move(state)));
}

void Connection::SendResponse(Response response, bool keep_alive, unsigned version) {
  if (closed_) return;
  std::string out;
  out.reserve(128 + response.body.size());
  AppendStatusLine(response.status, version, &out);
  for (const auto& [k, v] : response.headers) AppendHeader(k, v, &out);
  if (!HasHeader(response.headers, "server")) out.append("Server: keel\r\n");
  AppendHeader("Content-Length", std::to_string(response.body.size()), &out);
  if (!keep_alive) out.append("Connection: close\r\n");
  out.append("\r\n").append(response.body);
  writes_.emplace_back(std::move(out), !keep_alive);
  if (!keep_alive) closing_ = true;
  awaiting_answer_ = false;
  // Given at once by the handler Serve runs: Serve goes on to the next
  // request and writes this answer with theirs.
  if (dispatching_) return;
  Serve();
}

void Connection::StartStream(int status, Headers headers, std::shared_ptr<StreamImpl> stream) {
  if (closed_) {
    stream->MarkClosed();
    return;
  }
  streaming_ = std::move(stream);
  std::string out;
  AppendStatusLine(status, 11, &out);
  for (const auto& [k, v] : headers) AppendHeader(k, v, &out);
  out.append("Server: keel\r\nTransfer-Encoding: chunked\r\n\r\n");
  // A stream never times out: events may be minutes apart (heartbeats keep
  // clients happy, not the server).
  stream_.expires_never();
  QueueWrite(std::move(out), false);
  WatchPeer();
}

void Connection::WatchPeer() {
  // Nothing more is expected from a streaming client; a read that completes
  // means it went away (or misbehaves), either way the stream ends.
  stream_.async_read_some(
      asio::buffer(peek_),
      asio::bind_executor(strand_, [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec) {
          self->Close();
        } else {
          self->WatchPeer();
        }
      }));
}

void Connection::SendChunks(std::string chunks) {
  if (closed_ || !streaming_ || chunks.empty()) return;
  QueueWrite(std::move(chunks), false);
}

void Connection::FinishStream() {
  if (closed_) return;
  QueueWrite("0\r\n\r\n", true);
}

void Connection::QueueWrite(std::string bytes, bool close_after) {
  writes_.emplace_back(std::move(bytes), close_after);
  if (close_after) closing_ = true;
  Flush();
}

void Connection::Flush() {
  if (!writing_) WriteNext();
}

void Connection::WriteNext() {
  if (writes_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  // Everything queued goes out in one gathered write (responses to
  // pipelined requests, a burst of events on a stream), up to a close.
  std::vector<asio::const_buffer> buffers;
  bool close_after = false;
  for (const auto& [bytes, close] : writes_) {
    buffers.push_back(asio::buffer(bytes));
    if ((close_after = close)) break;
  }
  in_flight_ = buffers.size();
  asio::async_write(
      stream_.socket(), buffers,
      asio::bind_executor(
          strand_, [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
            self->writes_.erase(self->writes_.begin(),
                                self->writes_.begin() + static_cast<ptrdiff_t>(self->in_flight_));
            self->in_flight_ = 0;
            if (ec || close_after) {
              self->Close();
              return;
            }
            self->WriteNext();
          }));
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  if (streaming_) streaming_->MarkClosed();
  server_->Forget(this);
}

// ---- Responder ------------------------------------------------------------

Responder::Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}

void Responder::Respond(Response response) {
  if (state_->answered.exchange(true)) return;
  if (!state_->jsonp.empty()) {
    for (auto& [name, value] : response.headers) {
      if (name == "Content-Type" && value == "application/json") {
        value = "text/javascript";
        response.body = state_->jsonp + "(" + response.body + ");";
      }
    }
  }
  if (auto conn = std::move(state_->connection)) {
    // A handler answering at once runs on the connection's strand: the
    // answer is queued now, to go out with those of the requests after it
    // (posted, it would come after Serve had already written alone what
    // came before).
    if (conn->strand().running_in_this_thread()) {
      conn->SendResponse(std::move(response), state_->keep_alive, state_->version);
      return;
    }
    asio::post(conn->strand(), [conn, response = std::move(response), keep = state_->keep_alive,
                                version = state_->version]() mutable {
      conn->SendResponse(std::move(response), keep, version);
    });
  }
}

void Responder::WrapJsonIn(std::string callback) { state_->jsonp = std::move(callback); }

std::shared_ptr<Stream> Responder::StartStream(int status, Headers headers) {
  if (state_->answered.exchange(true)) {
    auto stream = std::make_shared<StreamImpl>(std::weak_ptr<Connection>());
    stream->MarkClosed();
    return stream;
  }
  auto conn = std::move(state_->connection);
  auto stream = std::make_shared<StreamImpl>(conn);
  if (conn) {
    asio::post(conn->strand(), [conn, status, headers = std::move(headers), stream]() mutable {
      conn->StartStream(status, std::move(headers), stream);
    });
  } else {
    stream->MarkClosed();
  }
  return stream;
}

Responder::State::~State() {
  if (answered.load()) return;
  if (auto conn = std::move(connection)) {
    asio::post(conn->strand(), [conn, keep = keep_alive, v = version] {
      conn->SendResponse(Response::Text(500, "handler did not respond\n"), keep, v);
    });
  }
}

// ---- Stream ---------------------------------------------------------------

void StreamImpl::Write(std::string data) {
  if (closed_ || data.empty()) return;
  auto conn = connection_.lock();
  if (!conn) return;
  char size[20];
  const int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  bool post;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.append(size, static_cast<size_t>(n)).append(data).append("\r\n");
    post = !flush_posted_;
    flush_posted_ = true;
  }
  if (post) {
    asio::post(conn->strand(),
               [conn, self = shared_from_this()] { conn->SendChunks(self->TakePending()); });
  }
}

std::string StreamImpl::TakePending() {
  std::lock_guard<std::mutex> lock(mu_);
  flush_posted_ = false;
  std::string chunks;
  chunks.swap(pending_);
  return chunks;
}

void StreamImpl::Close() {
  if (closed_) return;
  if (auto conn = connection_.lock()) {
    asio::post(conn->strand(), [conn] { conn->FinishStream(); });
  }
}

void StreamImpl::OnClose(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      on_close_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void StreamImpl::MarkClosed() {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_.exchange(true)) return;
    callbacks.swap(on_close_);
  }
  for (auto& fn : callbacks) fn();
}

}  // namespace keel::http
