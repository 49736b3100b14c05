// The HTTP server over real sockets on loopback.
#include "kernel/http/http_server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <future>
#include <thread>

namespace keel::http {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A raw client: what it sends is exactly what the test writes.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Reads until `needle` has arrived (or the peer closes / times out).
  std::string ReadUntil(const std::string& needle) {
    char buf[4096];
    while (received_.find(needle) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      received_.append(buf, n);
    }
    return received_;
  }
  std::string ReadAll() {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buf, sizeof(buf), 0)) > 0) received_.append(buf, n);
    return received_;
  }
  void Clear() { received_.clear(); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string received_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.address = "127.0.0.1";
    options.max_body_bytes = 1024;
    server_ = std::make_unique<Server>(io_, options);
    server_->Route("GET", "/hello", [](const Request& r, Responder responder) {
      responder.Respond(Response::Text(200, "hello " + r.query.at("name")));
    });
    server_->Route("POST", "/echo", [](const Request& r, Responder responder) {
      responder.Respond(Response::Text(200, r.body));
    });
    server_->Route("GET", "/later", [](const Request&, Responder responder) {
      std::thread([responder]() mutable {
        std::this_thread::sleep_for(50ms);
        responder.Respond(Response::Text(200, "late"));
      }).detach();
    });
    server_->Route("GET", "/throws",
                   [](const Request&, Responder) -> void { throw std::runtime_error("boom"); });
    server_->Route("GET", "/silent", [](const Request&, Responder) {});
    server_->RoutePrefix("GET", "/items/", [](const Request& r, Responder responder) {
      responder.Respond(Response::Text(200, "item " + r.path));
    });
    server_->RoutePrefix("GET", "/items/deep/", [](const Request& r, Responder responder) {
      responder.Respond(Response::Text(200, "deep " + r.path));
    });
    server_->Route("GET", "/items/exact", [](const Request&, Responder responder) {
      responder.Respond(Response::Text(200, "exact"));
    });
    server_->Route("GET", "/stream", [this](const Request&, Responder responder) {
      stream_ = responder.StartStream(200, {{"Content-Type", "application/json"}});
      stream_->OnClose([this] { stream_closed_.set_value(); });
      stream_ready_.set_value();
    });
    ASSERT_EQ(server_->Start(), "");
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    server_->Stop();
    io_.stop();
    thread_.join();
  }

  std::string Get(const std::string& target) {
    RawClient c(server_->port());
    c.Send("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    return c.ReadAll();
  }

  boost::asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::shared_ptr<Stream> stream_;
  std::promise<void> stream_ready_;
  std::promise<void> stream_closed_;
};

TEST_F(HttpServerTest, AnswersGetWithQuery) {
  std::string r = Get("/hello?name=keel%20user");
  EXPECT_THAT(r, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 15"));
  EXPECT_THAT(r, HasSubstr("hello keel user"));
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  EXPECT_THAT(Get("/nope"), HasSubstr("HTTP/1.1 404"));
  std::string r = Get("/echo");
  EXPECT_THAT(r, HasSubstr("HTTP/1.1 405"));
  EXPECT_THAT(r, HasSubstr("Allow: POST"));
}

TEST_F(HttpServerTest, PrefixRoutesTakePathsWithoutAnExactRouteLongestPrefixFirst) {
  EXPECT_THAT(Get("/items/a%2Fb"), HasSubstr("item /items/a/b"));
  EXPECT_THAT(Get("/items/deep/x"), HasSubstr("deep /items/deep/x"));
  EXPECT_THAT(Get("/items/exact"), HasSubstr("exact"));
  EXPECT_THAT(Get("/items"), HasSubstr("HTTP/1.1 404"));
  RawClient c(server_->port());
  c.Send("DELETE /items/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string r = c.ReadAll();
  EXPECT_THAT(r, HasSubstr("HTTP/1.1 405"));
  EXPECT_THAT(r, HasSubstr("Allow: GET"));
}

TEST_F(HttpServerTest, EchoesContentLengthAndChunkedBodies) {
  RawClient c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde");
  EXPECT_THAT(c.ReadUntil("abcde"), HasSubstr("200 OK"));
  c.Clear();
  // Same connection (keep-alive), a chunked body this time.
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nfoo\r\n4\r\nbarz\r\n0\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("foobarz"), HasSubstr("Content-Length: 7"));
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient c(server_->port());
  c.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?name=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadUntil("hello 2");
  ASSERT_NE(r.find("late"), std::string::npos) << r;
  EXPECT_LT(r.find("late"), r.find("hello 2"));
}

// Requests arriving together are handled one after another from what was
// read, answered at once or later, and their answers come back in order.
TEST_F(HttpServerTest, ABurstOfPipelinedRequestsIsAnsweredInOrder) {
  RawClient c(server_->port());
  std::string burst;
  for (int i = 0; i < 300; ++i) {
    burst += i % 100 == 50
                 ? "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
                 : "GET /hello?name=n" + std::to_string(i) + "x HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  c.Send(burst);
  const std::string r = c.ReadUntil("hello n299x");
  size_t at = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string expected = i % 100 == 50 ? "late" : "hello n" + std::to_string(i) + "x";
    const size_t found = r.find(expected, at);
    ASSERT_NE(found, std::string::npos) << "answer " << i << " missing or out of order";
    at = found + expected.size();
  }
}

// A request cut anywhere by the network is answered once it is whole, and
// the one after it in the same bytes too.
TEST_F(HttpServerTest, ARequestSplitAcrossReadsIsAnsweredWhole) {
  RawClient c(server_->port());
  const std::string two =
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
      "GET /hello?name=second HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t cut : {size_t{3}, size_t{30}, size_t{55}, size_t{60}}) {
    c.Clear();
    c.Send(two.substr(0, cut));
    std::this_thread::sleep_for(20ms);
    c.Send(two.substr(cut));
    const std::string r = c.ReadUntil("hello second");
    EXPECT_THAT(r, HasSubstr("abcde")) << "cut at " << cut;
  }
}

TEST_F(HttpServerTest, BodyOverLimitIs413) {
  RawClient c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
  EXPECT_THAT(c.ReadAll(), HasSubstr("HTTP/1.1 413"));
}

TEST_F(HttpServerTest, MalformedRequestIs400AndServerKeepsServing) {
  RawClient c(server_->port());
  c.Send("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_THAT(c.ReadAll(), HasSubstr("400"));
  EXPECT_EQ(server_->bad_requests(), 1u);
  EXPECT_THAT(Get("/hello?name=again"), HasSubstr("hello again"));
}

TEST_F(HttpServerTest, ThrowingHandlerIs500AndConnectionStaysUsable) {
  RawClient c(server_->port());
  c.Send("GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("boom"), HasSubstr("500"));
  c.Clear();
  c.Send("GET /hello?name=x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("hello x"), HasSubstr("200"));
}

TEST_F(HttpServerTest, HandlerThatNeverAnswersGets500) {
  EXPECT_THAT(Get("/silent"), HasSubstr("handler did not respond"));
}

TEST_F(HttpServerTest, StreamSendsChunksAndNoticesTheClientLeaving) {
  auto client = std::make_unique<RawClient>(server_->port());
  client->Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(stream_ready_.get_future().wait_for(5s), std::future_status::ready);
  std::thread writer([this] {
    for (const char* record : {"20\n{\"type\":\"SUBSCRIBED\"}", "20\n{\"type\":\"HEARTBEAT\"}"}) {
      stream_->Write(record);
    }
  });
  writer.join();
  std::string r = client->ReadUntil("HEARTBEAT");
  EXPECT_THAT(r, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_EQ(r.find("Content-Length"), std::string::npos);
  EXPECT_THAT(r, HasSubstr("18\r\n20\n{\"type\":\"SUBSCRIBED\"}\r\n"));
  client.reset();
  EXPECT_EQ(stream_closed_.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(stream_->closed());
  stream_->Write("dropped");  // must not crash or block
}

TEST(HttpServerStartTest, PortInUseNamesAddressAndPort) {
  boost::asio::io_context io;
  Server first(io, ServerOptions{"127.0.0.1", 0});
  ASSERT_EQ(first.Start(), "");
  Server second(io, ServerOptions{"127.0.0.1", first.port()});
  EXPECT_THAT(second.Start(), HasSubstr("127.0.0.1:" + std::to_string(first.port())));
}

}  // namespace
}  // namespace keel::http
