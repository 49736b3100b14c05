#include "kernel/http/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace keel::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

class GetOperation : public std::enable_shared_from_this<GetOperation> {
 public:
  GetOperation(asio::io_context& io, std::string host, uint16_t port, std::string target,
               std::chrono::milliseconds timeout, std::function<void(Result<Response>)> done)
      : resolver_(io),
        stream_(io),
        host_(std::move(host)),
        port_(port),
        target_(std::move(target)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void Begin() {
    stream_.expires_after(timeout_);
    resolver_.async_resolve(host_, std::to_string(port_),
                            [self = shared_from_this()](beast::error_code ec, auto results) {
                              if (ec) return self->Fail("cannot resolve", ec);
                              self->Connect(results);
                            });
  }

 private:
  void Connect(const asio::ip::tcp::resolver::results_type& results) {
    stream_.async_connect(results, [self = shared_from_this()](beast::error_code ec, auto) {
      if (ec) return self->Fail("cannot connect", ec);
      self->Write();
    });
  }

  void Write() {
    request_ = {bhttp::verb::get, target_, 11};
    request_.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
    request_.set(bhttp::field::user_agent, "keel");
    bhttp::async_write(stream_, request_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->Fail("cannot send request", ec);
                         self->Read();
                       });
  }

  void Read() {
    bhttp::async_read(
        stream_, buffer_, response_, [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Fail("cannot read response", ec);
          Response r;
          r.status = static_cast<int>(self->response_.result_int());
          for (const auto& field : self->response_) {
            r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
          }
          r.body = std::move(self->response_.body());
          beast::error_code ignored;
          self->stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
          self->done_(std::move(r));
        });
  }

  void Fail(const char* what, beast::error_code ec) {
    done_(Status::Error(std::string(what) + " http://" + host_ + ":" + std::to_string(port_) +
                        target_ + ": " + ec.message()));
  }

  asio::ip::tcp::resolver resolver_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bhttp::request<bhttp::empty_body> request_;
  bhttp::response<bhttp::string_body> response_;
  std::string host_;
  uint16_t port_;
  std::string target_;
  std::chrono::milliseconds timeout_;
  std::function<void(Result<Response>)> done_;
};

}  // namespace

void Get(asio::io_context& io, const std::string& host, uint16_t port, const std::string& target,
         std::chrono::milliseconds timeout, std::function<void(Result<Response>)> done) {
  std::make_shared<GetOperation>(io, host, port, target, timeout, std::move(done))->Begin();
}

}  // namespace keel::http
