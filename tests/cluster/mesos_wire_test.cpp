// The wire details real Mesos clients depend on (issue 13), each spoken over
// raw HTTP against the real daemons: the SUBSCRIBE stream's framing and
// first event, keep-alive calls, chunked request bodies, nulls and unknown
// fields, offers' url and allocation_info, DECLINE/SUPPRESS/REVIVE, /tasks
// paging, protobuf bodies, JSONP on /master/roles and the maintenance
// schedule, and a Mesos-style web UI folder.
//
// Already covered elsewhere, so not here: config files refusing an unknown
// field (DaemonLifecycleTest.*, tests/daemons), `?jsonp=` on /master/state,
// /metrics/snapshot and the agent, /master/frameworks/, /slaves and
// /api/v1?x=1 (OperatorEndpointsTest.JsonpAndRouteAliasesAsMesosHasThem).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <thread>

#include "keel/v1/master.pb.h"
#include "keel/v1/scheduler.pb.h"
#include "kernel/runtime/mesos_json.hpp"
#include "tests/cluster/cluster_fixture.hpp"
#include "tests/support/http_client.hpp"

namespace keel::test {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using v1::scheduler::Call;
using v1::scheduler::Event;

Struct ParseJson(const std::string& json) {
  Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &s).ok()) << json;
  return s;
}

const Value& At(const Struct& s, const std::string& key) {
  static const Value kNull;
  auto it = s.fields().find(key);
  return it == s.fields().end() ? kNull : it->second;
}

// A request as bytes; its body chunked ("<hex>\r\n<bytes>\r\n", 7 bytes a
// chunk, no Content-Length) when `chunked`.
std::string RequestBytes(const std::string& target, const std::string& body,
                         const std::map<std::string, std::string>& headers, bool chunked) {
  std::string out = "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!chunked) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return out;
  }
  out += "Transfer-Encoding: chunked\r\n\r\n";
  char size[16];
  for (size_t i = 0; i < body.size(); i += 7) {
    const std::string piece = body.substr(i, 7);
    std::snprintf(size, sizeof(size), "%zx", piece.size());
    out += std::string(size) + "\r\n" + piece + "\r\n";
  }
  return out + "0\r\n\r\n";
}

// One client connection, read as a Mesos client reads it: answers one after
// another (keep-alive), or a chunked stream of RecordIO records.
class Wire {
 public:
  explicit Wire(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~Wire() { ::close(fd_); }
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // The next answer's status line and headers (lower-case names).
  HttpResult Head(std::chrono::milliseconds timeout = 10s) {
    HttpResult r;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return r;
    }
    const std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    r.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? next : next - pos - 2);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      pos = next;
    }
    return r;
  }

  // A whole answer with a Content-Length body.
  HttpResult Answer() {
    HttpResult r = Head();
    const size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (raw_.size() < length && Fill(deadline)) {
    }
    r.body = raw_.substr(0, length);
    raw_.erase(0, length);
    return r;
  }

  // The next RecordIO record of a chunked body, or nothing by `timeout`.
  std::optional<std::string> Record(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      size_t newline = body_.find('\n');
      if (newline != std::string::npos) {
        const size_t length = std::stoul(body_.substr(0, newline));
        if (body_.size() >= newline + 1 + length) {
          std::string record = body_.substr(newline + 1, length);
          body_.erase(0, newline + 1 + length);
          return record;
        }
      }
      size_t line = raw_.find("\r\n");
      if (line != std::string::npos) {
        const size_t size = std::stoul(raw_.substr(0, line), nullptr, 16);
        if (size == 0) return std::nullopt;
        if (raw_.size() >= line + 2 + size + 2) {
          body_ += raw_.substr(line + 2, size);
          raw_.erase(0, line + 2 + size + 2);
          continue;
        }
      }
      if (!Fill(deadline)) return std::nullopt;
    }
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    raw_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string raw_;   // bytes not consumed yet
  std::string body_;  // de-chunked bytes not split into records yet
};

const std::map<std::string, std::string> kJson = {{"Content-Type", "application/json"},
                                                  {"Accept", "application/json"}};

// A framework subscribed over raw HTTP: its stream, ids and events.
struct RawFramework {
  std::unique_ptr<Wire> stream;
  HttpResult head;
  std::string framework_id;
  std::string stream_id;
  bool protobuf = false;

  // The next event that is not a HEARTBEAT, as its JSON text (protobuf
  // records printed as JSON), or "" on a timeout.
  std::string NextJson(std::chrono::milliseconds timeout = 10s) {
    // One deadline for all: heartbeats must not keep the wait going.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      auto record = stream->Record(left);
      if (!record) return "";
      std::string json = *record;
      if (protobuf) {
        Event event;
        EXPECT_TRUE(event.ParseFromString(*record));
        json.clear();
        google::protobuf::util::JsonPrintOptions o;
        o.preserve_proto_field_names = true;
        (void)google::protobuf::util::MessageToJsonString(event, &json, o);
      }
      if (json.find("\"HEARTBEAT\"") == std::string::npos) return json;
    }
  }
  Event Next(std::chrono::milliseconds timeout = 10s) {
    Event event;
    const std::string json = NextJson(timeout);
    if (json.empty()) return event;
    google::protobuf::util::JsonParseOptions o;
    o.ignore_unknown_fields = true;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &event, o).ok()) << json;
    return event;
  }
  // The next event of `type`, skipping others.
  Event NextOf(Event::Type type, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      Event e = Next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (e.type() == type) return e;
    }
    return Event();
  }
};

std::string FrameworkInfoJson(const std::string& extra = "") {
  return R"({"user":"root","name":"wire-test")" + extra + "}";
}

std::string SubscribeJson(const std::string& framework_info = FrameworkInfoJson()) {
  return R"({"type":"SUBSCRIBE","subscribe":{"framework_info":)" + framework_info + "}}";
}

class MesosWireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions o = FastCluster();
    cluster = std::make_unique<LocalCluster>(o);
    ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster->master_port, "/health", 200, 10000));
    // The agent registered: offers are ready the moment a framework comes.
    ASSERT_TRUE(WaitForBody(cluster->master_port, "/master/slaves", "slave(1)@", 10s));
  }

  uint16_t port() const { return cluster->master_port; }

  // Subscribes with `body`; SUBSCRIBED must be the first event.
  RawFramework Subscribe(const std::string& body, const std::map<std::string, std::string>& headers,
                         bool chunked = false) {
    RawFramework f;
    f.stream = std::make_unique<Wire>(port());
    f.stream->Send(RequestBytes("/api/v1/scheduler", body, headers, chunked));
    f.head = f.stream->Head();
    EXPECT_EQ(f.head.status, 200);
    f.stream_id = f.head.headers["mesos-stream-id"];
    f.protobuf = f.head.headers["content-type"] == "application/x-protobuf";
    Event first = f.Next();
    EXPECT_EQ(first.type(), Event::SUBSCRIBED) << first.DebugString();
    f.framework_id = first.subscribed().framework_id().value();
    return f;
  }
  RawFramework Subscribe(const std::string& body = SubscribeJson()) {
    return Subscribe(body, kJson);
  }

  // A call of `f` on its own short connection: the answer.
  HttpResult Send(const RawFramework& f, const std::string& json,
                  const std::string& target = "/api/v1/scheduler") {
    return HttpRequest("127.0.0.1", port(), "POST", target, json,
                       {{"Content-Type", "application/json"}, {"Mesos-Stream-Id", f.stream_id}});
  }

  // Waits for an UPDATE of `task_id` in `state` on `f`'s stream,
  // acknowledging every update that asks for it (the agent sends the next
  // one only then).
  bool SawState(RawFramework& f, const std::string& task_id, v1::TaskState state) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      Event e = f.NextOf(Event::UPDATE, 20s);
      if (e.type() != Event::UPDATE) return false;
      const v1::TaskStatus& status = e.update().status();
      if (!status.uuid().empty()) {
        Call ack;
        ack.set_type(Call::ACKNOWLEDGE);
        ack.mutable_framework_id()->set_value(f.framework_id);
        *ack.mutable_acknowledge()->mutable_agent_id() = status.agent_id();
        *ack.mutable_acknowledge()->mutable_task_id() = status.task_id();
        ack.mutable_acknowledge()->set_uuid(status.uuid());
        EXPECT_EQ(Send(f, runtime::MesosJson(ack)).status, 202);
      }
      if (status.task_id().value() == task_id && status.state() == state) return true;
    }
    return false;
  }

  HttpResult Get(const std::string& target, uint16_t on = 0) {
    return HttpRequest("127.0.0.1", on ? on : port(), "GET", target);
  }

  std::unique_ptr<LocalCluster> cluster;
};

std::string Id(const std::string& value) { return R"({"value":")" + value + R"("})"; }

std::string DeclineJson(const std::string& framework_id, const std::string& offer_ids,
                        double refuse_seconds = 0) {
  return R"({"type":"DECLINE","framework_id":)" + Id(framework_id) +
         R"(,"decline":{"offer_ids":[)" + offer_ids + R"(],"filters":{"refuse_seconds":)" +
         std::to_string(refuse_seconds) + "}}}";
}

// An ACCEPT launching `command` as task `task_id` with 0.1 cpus and 32 MB,
// their resources allocated to `role` when it is not empty (MULTI_ROLE).
std::string AcceptJson(const std::string& framework_id, const v1::Offer& offer,
                       const std::string& task_id, const std::string& command,
                       const std::string& role = "") {
  const std::string allocation =
      role.empty() ? "" : R"(,"allocation_info":{"role":")" + role + R"("})";
  return R"({"type":"ACCEPT","framework_id":)" + Id(framework_id) + R"(,"accept":{"offer_ids":[)" +
         Id(offer.id().value()) +
         R"(],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":")" + task_id +
         R"(","task_id":)" + Id(task_id) + R"(,"agent_id":)" + Id(offer.agent_id().value()) +
         R"(,"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1})" + allocation +
         R"(},{"name":"mem","type":"SCALAR","scalar":{"value":32})" + allocation +
         R"(}],"command":{"value":")" + command + R"("}}]}}],"filters":{"refuse_seconds":0}}})";
}

TEST_F(MesosWireTest, SubscribeIsChunkedAndSubscribedComesBeforeOffers) {
  auto stream = std::make_unique<Wire>(port());
  stream->Send(RequestBytes("/api/v1/scheduler", SubscribeJson(), kJson, false));
  HttpResult head = stream->Head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(head.headers.count("content-length"), 0u);
  EXPECT_EQ(head.headers["content-type"], "application/json");
  EXPECT_FALSE(head.headers["mesos-stream-id"].empty());
  // The first record is SUBSCRIBED though an offer was ready at once; OFFERS
  // follow.
  auto first = stream->Record(10s);
  ASSERT_TRUE(first);
  EXPECT_EQ(At(ParseJson(*first), "type").string_value(), "SUBSCRIBED") << *first;
  RawFramework f;
  f.stream = std::move(stream);
  f.stream_id = head.headers["mesos-stream-id"];
  f.framework_id =
      At(At(At(ParseJson(*first), "subscribed").struct_value(), "framework_id").struct_value(),
         "value")
          .string_value();
  Event offers = f.Next();
  ASSERT_EQ(offers.type(), Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);

  // Other calls on one keep-alive connection: each 202 with Content-Length:
  // 0, and the connection stays open for the next.
  Wire calls(port());
  const std::map<std::string, std::string> headers = {{"Content-Type", "application/json"},
                                                      {"Mesos-Stream-Id", f.stream_id}};
  calls.Send(RequestBytes("/api/v1/scheduler",
                          DeclineJson(f.framework_id, Id(offers.offers().offers(0).id().value())),
                          headers, false));
  HttpResult declined = calls.Answer();
  EXPECT_EQ(declined.status, 202) << declined.body;
  EXPECT_EQ(declined.headers["content-length"], "0");
  EXPECT_EQ(declined.headers.count("connection"), 0u) << declined.headers["connection"];
  calls.Send(RequestBytes("/api/v1/scheduler",
                          R"({"type":"REVIVE","framework_id":)" + Id(f.framework_id) + "}", headers,
                          false));
  HttpResult revived = calls.Answer();
  EXPECT_EQ(revived.status, 202) << revived.body;
  EXPECT_EQ(revived.headers["content-length"], "0");
  EXPECT_TRUE(revived.body.empty());
}

TEST_F(MesosWireTest, ChunkedRequestBodiesAreRead) {
  RawFramework f = Subscribe(SubscribeJson(), kJson, /*chunked=*/true);
  ASSERT_FALSE(f.framework_id.empty());
  Event offers = f.NextOf(Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);

  // A chunked DECLINE, then a chunked ACCEPT whose task runs.
  Wire calls(port());
  const std::map<std::string, std::string> headers = {{"Content-Type", "application/json"},
                                                      {"Mesos-Stream-Id", f.stream_id}};
  calls.Send(RequestBytes("/api/v1/scheduler",
                          DeclineJson(f.framework_id, Id(offers.offers().offers(0).id().value())),
                          headers, true));
  EXPECT_EQ(calls.Answer().status, 202);
  offers = f.NextOf(Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);
  calls.Send(RequestBytes("/api/v1/scheduler",
                          AcceptJson(f.framework_id, offers.offers().offers(0), "chunked", "true"),
                          headers, true));
  HttpResult accepted = calls.Answer();
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_TRUE(SawState(f, "chunked", v1::TASK_FINISHED));
}

TEST_F(MesosWireTest, NullFieldsAreAbsentAndUnknownFieldsIgnored) {
  // Nulls for optional fields and repeated ones, and fields this master has
  // never heard of, at every level.
  RawFramework f = Subscribe(
      R"({"type":"SUBSCRIBE","framework_id":null,"some_future_field":{"x":1},
          "subscribe":{"framework_info":{"user":"root","name":"nulls","id":null,"hostname":null,
                       "capabilities":null,"labels":null,"failover_timeout":null,
                       "next_big_thing":[1,2,3]},
                       "suppressed_roles":null,"also_unknown":true}})");
  ASSERT_FALSE(f.framework_id.empty());
  Event offers = f.NextOf(Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);
  HttpResult declined =
      Send(f, R"({"type":"DECLINE","framework_id":)" + Id(f.framework_id) +
                  R"(,"unknown":"x","decline":{"offer_ids":[)" +
                  Id(offers.offers().offers(0).id().value()) + R"(],"filters":null,"later":1}})");
  EXPECT_EQ(declined.status, 202) << declined.body;
  // A required field given as null is missing, as Mesos reads it.
  HttpResult missing = HttpRequest(
      "127.0.0.1", port(), "POST", "/api/v1/scheduler",
      R"({"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":null,"name":"n"}}})", kJson);
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_THAT(missing.body, HasSubstr("user"));
}

TEST_F(MesosWireTest, OffersCarryTheAgentsUrl) {
  RawFramework f = Subscribe();
  const std::string json = f.NextJson();
  const Struct event = ParseJson(json);
  ASSERT_EQ(At(event, "type").string_value(), "OFFERS") << json;
  const auto& list = At(At(event, "offers").struct_value(), "offers").list_value();
  ASSERT_EQ(list.values_size(), 1);
  const Struct& url = At(list.values(0).struct_value(), "url").struct_value();
  EXPECT_EQ(At(url, "scheme").string_value(), "http") << json;
  EXPECT_EQ(At(url, "path").string_value(), "/slave(1)") << json;
  const Struct& address = At(url, "address").struct_value();
  EXPECT_FALSE(At(address, "hostname").string_value().empty()) << json;
  EXPECT_EQ(At(address, "ip").string_value(), "127.0.0.1") << json;
  EXPECT_EQ(At(address, "port").number_value(), cluster->agent_port) << json;
}

TEST_F(MesosWireTest, AllocationInfoOnlyForMultiRoleFrameworks) {
  {
    RawFramework multi = Subscribe(SubscribeJson(
        FrameworkInfoJson(R"(,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}])")));
    Event offers = multi.NextOf(Event::OFFERS);
    ASSERT_EQ(offers.offers().offers_size(), 1);
    const v1::Offer& offer = offers.offers().offers(0);
    EXPECT_EQ(offer.allocation_info().role(), "web");
    ASSERT_GT(offer.resources_size(), 0);
    for (const auto& r : offer.resources()) {
      EXPECT_EQ(r.allocation_info().role(), "web") << r.DebugString();
    }
    // It launches with the allocation it was offered.
    EXPECT_EQ(Send(multi, AcceptJson(multi.framework_id, offer, "multi", "sleep 1", "web")).status,
              202);
    EXPECT_TRUE(SawState(multi, "multi", v1::TASK_RUNNING));
    EXPECT_EQ(
        Send(multi, R"({"type":"TEARDOWN","framework_id":)" + Id(multi.framework_id) + "}").status,
        202);
  }
  // A framework without the capability never sees allocation_info, on the
  // offer or its resources, and launches without it.
  RawFramework single = Subscribe();
  const std::string json = single.NextJson(20s);
  ASSERT_THAT(json, HasSubstr("\"OFFERS\""));
  EXPECT_THAT(json, Not(HasSubstr("allocation_info")));
  Event offers;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &offers, o).ok());
  ASSERT_EQ(offers.offers().offers_size(), 1);
  EXPECT_EQ(
      Send(single, AcceptJson(single.framework_id, offers.offers().offers(0), "single", "true"))
          .status,
      202);
  EXPECT_TRUE(SawState(single, "single", v1::TASK_FINISHED));
}

TEST_F(MesosWireTest, EmptyDeclineSuppressAndReviveAreAcceptedAndBehave) {
  RawFramework f = Subscribe(SubscribeJson(
      FrameworkInfoJson(R"(,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}])")));
  Event offers = f.NextOf(Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);
  EXPECT_EQ(Send(f, DeclineJson(f.framework_id, "")).status, 202);
  EXPECT_EQ(Send(f, R"({"type":"DECLINE","framework_id":)" + Id(f.framework_id) +
                        R"(,"decline":{"offer_ids":[]}})")
                .status,
            202);

  auto suppressed_then_revived = [&](const std::string& suppress, const std::string& revive) {
    HttpResult s = Send(f, suppress);
    EXPECT_EQ(s.status, 202) << suppress << ": " << s.body;
    // Outstanding offers stay (as Mesos); once declined, none come back.
    EXPECT_EQ(
        Send(f, DeclineJson(f.framework_id, Id(offers.offers().offers(0).id().value()))).status,
        202);
    Event none = f.NextOf(Event::OFFERS, 1500ms);
    EXPECT_EQ(none.type(), Event::UNKNOWN) << suppress << ": " << none.DebugString();
    HttpResult r = Send(f, revive);
    EXPECT_EQ(r.status, 202) << revive << ": " << r.body;
    offers = f.NextOf(Event::OFFERS);
    EXPECT_EQ(offers.offers().offers_size(), 1) << revive;
  };
  const std::string id = Id(f.framework_id);
  suppressed_then_revived(R"({"type":"SUPPRESS","framework_id":)" + id + "}",
                          R"({"type":"REVIVE","framework_id":)" + id + "}");
  suppressed_then_revived(
      R"({"type":"SUPPRESS","framework_id":)" + id + R"(,"suppress":{"roles":["web"]}})",
      R"({"type":"REVIVE","framework_id":)" + id + R"(,"revive":{"roles":["web"]}})");
  suppressed_then_revived(
      R"({"type":"SUPPRESS","framework_id":)" + id + R"(,"suppress":{"roles":[]}})",
      R"({"type":"REVIVE","framework_id":)" + id + R"(,"revive":{"roles":[]}})");
}

TEST_F(MesosWireTest, TasksPageInMesosOrderAndApiRoutesIgnoreQueries) {
  RawFramework f = Subscribe();
  for (const char* id : {"t1", "t2", "t3"}) {
    Event offers = f.NextOf(Event::OFFERS);
    ASSERT_EQ(offers.offers().offers_size(), 1);
    // A query string on the scheduler API's path is ignored, as Mesos does.
    HttpResult r = Send(f, AcceptJson(f.framework_id, offers.offers().offers(0), id, "true"),
                        "/api/v1/scheduler?framework=x");
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_TRUE(SawState(f, id, v1::TASK_FINISHED));
  }
  auto ids = [&](const std::string& target) {
    HttpResult r = Get(target);
    EXPECT_EQ(r.status, 200) << target;
    std::vector<std::string> out;
    const Struct body = ParseJson(r.body);
    for (const auto& t : At(body, "tasks").list_value().values()) {
      out.push_back(At(t.struct_value(), "id").string_value());
    }
    return out;
  };
  using V = std::vector<std::string>;
  // By when the tasks started; newest first unless asked otherwise.
  EXPECT_EQ(ids("/tasks"), (V{"t3", "t2", "t1"}));
  EXPECT_EQ(ids("/tasks?order=asc"), (V{"t1", "t2", "t3"}));
  EXPECT_EQ(ids("/tasks?order=des&limit=2"), (V{"t3", "t2"}));
  EXPECT_EQ(ids("/master/tasks?order=asc&limit=1&offset=1"), (V{"t2"}));
  EXPECT_EQ(ids("/master/tasks/?order=asc&offset=2"), (V{"t3"}));
  EXPECT_EQ(ids("/tasks?offset=5"), V{});
  EXPECT_EQ(ids("/tasks?framework_id=" + f.framework_id + "&task_id=t2"), (V{"t2"}));

  const Struct frameworks = ParseJson(Get("/master/frameworks/").body);
  ASSERT_EQ(At(frameworks, "frameworks").list_value().values_size(), 1);
  EXPECT_EQ(
      At(At(frameworks, "frameworks").list_value().values(0).struct_value(), "id").string_value(),
      f.framework_id);
  EXPECT_EQ(At(ParseJson(Get("/slaves").body), "slaves").list_value().values_size(), 1);
  EXPECT_EQ(At(ParseJson(Get("/master/slaves/?x=1").body), "slaves").list_value().values_size(), 1);
}

TEST_F(MesosWireTest, ProtobufBodiesOnTheSchedulerAndOperatorApis) {
  // SUBSCRIBE as protobuf, events asked for as protobuf.
  Call subscribe;
  subscribe.set_type(Call::SUBSCRIBE);
  auto* info = subscribe.mutable_subscribe()->mutable_framework_info();
  info->set_user("root");
  info->set_name("protobuf");
  RawFramework f =
      Subscribe(subscribe.SerializeAsString(),
                {{"Content-Type", "application/x-protobuf"}, {"Accept", "application/x-protobuf"}});
  EXPECT_EQ(f.head.headers["content-type"], "application/x-protobuf");
  ASSERT_FALSE(f.framework_id.empty());
  Event offers = f.NextOf(Event::OFFERS);
  ASSERT_EQ(offers.offers().offers_size(), 1);
  const v1::Offer& offer = offers.offers().offers(0);

  // An ACCEPT in protobuf; its task's updates come as protobuf records.
  Call accept;
  accept.set_type(Call::ACCEPT);
  accept.mutable_framework_id()->set_value(f.framework_id);
  *accept.mutable_accept()->add_offer_ids() = offer.id();
  auto* op = accept.mutable_accept()->add_operations();
  op->set_type(v1::Offer::Operation::LAUNCH);
  *op->mutable_launch()->add_task_infos() = TestFramework::CommandTask("pb", offer, "true");
  HttpResult accepted =
      HttpRequest("127.0.0.1", port(), "POST", "/api/v1/scheduler", accept.SerializeAsString(),
                  {{"Content-Type", "application/x-protobuf"}, {"Mesos-Stream-Id", f.stream_id}});
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_TRUE(SawState(f, "pb", v1::TASK_FINISHED));

  // The operator API: GET_STATE in protobuf, answered in protobuf.
  v1::master::Call get_state;
  get_state.set_type(v1::master::Call::GET_STATE);
  HttpResult state = HttpRequest(
      "127.0.0.1", port(), "POST", "/api/v1", get_state.SerializeAsString(),
      {{"Content-Type", "application/x-protobuf"}, {"Accept", "application/x-protobuf"}});
  ASSERT_EQ(state.status, 200) << state.body;
  EXPECT_EQ(state.headers["content-type"], "application/x-protobuf");
  v1::master::Response response;
  ASSERT_TRUE(response.ParseFromString(state.body));
  EXPECT_EQ(response.type(), v1::master::Response::GET_STATE);
  EXPECT_EQ(response.get_state().get_agents().agents_size(), 1);
  EXPECT_EQ(response.get_state().get_frameworks().frameworks_size(), 1);

  // Another media type in: 415; an Accept allowing neither: 406.
  for (const char* path : {"/api/v1", "/api/v1/scheduler"}) {
    const std::string body =
        std::string(path) == "/api/v1" ? R"({"type":"GET_STATE"})" : SubscribeJson();
    HttpResult xml =
        HttpRequest("127.0.0.1", port(), "POST", path, body, {{"Content-Type", "application/xml"}});
    EXPECT_EQ(xml.status, 415) << path << ": " << xml.body;
    HttpResult html = HttpRequest("127.0.0.1", port(), "POST", path, body,
                                  {{"Content-Type", "application/json"}, {"Accept", "text/html"}});
    EXPECT_EQ(html.status, 406) << path << ": " << html.body;
  }
}

TEST_F(MesosWireTest, RolesListFrameworksWeightsAndQuotasWithJsonp) {
  ASSERT_EQ(
      HttpRequest("127.0.0.1", port(), "PUT", "/weights", R"([{"role":"batch","weight":2.5}])")
          .status,
      200);
  RawFramework f = Subscribe(SubscribeJson(
      FrameworkInfoJson(R"(,"roles":["web"],"capabilities":[{"type":"MULTI_ROLE"}])")));
  ASSERT_EQ(f.NextOf(Event::OFFERS).offers().offers_size(), 1);

  HttpResult r = Get("/master/roles");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "application/json");
  std::map<std::string, Struct> roles;
  const Struct body = ParseJson(r.body);
  for (const auto& role : At(body, "roles").list_value().values()) {
    roles[At(role.struct_value(), "name").string_value()] = role.struct_value();
  }
  ASSERT_EQ(roles.count("web"), 1u) << r.body;
  ASSERT_EQ(roles.count("batch"), 1u) << r.body;
  EXPECT_EQ(At(roles["batch"], "weight").number_value(), 2.5);
  EXPECT_EQ(At(roles["web"], "weight").number_value(), 1);
  const auto& frameworks = At(roles["web"], "frameworks").list_value();
  ASSERT_EQ(frameworks.values_size(), 1);
  EXPECT_EQ(frameworks.values(0).string_value(), f.framework_id);
  // The agent's resources are offered to "web".
  EXPECT_EQ(At(At(roles["web"], "resources").struct_value(), "cpus").number_value(), 2) << r.body;
  EXPECT_EQ(At(At(roles["batch"], "resources").struct_value(), "cpus").number_value(), 0);
  EXPECT_EQ(At(roles["batch"], "frameworks").list_value().values_size(), 0);
  EXPECT_EQ(Get("/roles").body, r.body);

  HttpResult wrapped = Get("/master/roles?jsonp=showRoles");
  EXPECT_EQ(wrapped.status, 200);
  EXPECT_EQ(wrapped.headers["content-type"], "text/javascript");
  EXPECT_EQ(wrapped.body, "showRoles(" + r.body + ");");
}

TEST_F(MesosWireTest, MaintenanceScheduleIsValidatedStoredAndSurvivesARestart) {
  HttpResult none = Get("/master/maintenance/schedule");
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, "{}");
  EXPECT_EQ(Get("/master/maintenance/schedule?jsonp=cb").body, "cb({});");

  const std::string schedule =
      R"({"windows":[{"machine_ids":[{"hostname":"node-1","ip":"10.0.0.1"},{"ip":"10.0.0.2"}],
          "unavailability":{"start":{"nanoseconds":1700000000000000000},
                            "duration":{"nanoseconds":3600000000000}}},
         {"machine_ids":[{"hostname":"node-3"}],
          "unavailability":{"start":{"nanoseconds":1800000000000000000}}}]})";
  struct Bad {
    std::string body, reason;
  };
  for (
      const Bad& bad : std::vector<Bad>{
          {R"({"windows":[)", "Failed to parse"},
          {R"({"windows":[{"machine_ids":[{"hostname":"a"}]}]})", "unavailability"},
          {R"({"windows":[{"machine_ids":[],"unavailability":{"start":{"nanoseconds":1}}}]})",
           "empty"},
          {R"({"windows":[{"machine_ids":[{}],"unavailability":{"start":{"nanoseconds":1}}}]})",
           "Both 'hostname' and 'ip'"},
          {R"({"windows":[{"machine_ids":[{"ip":"300.1.1.1"}],
                "unavailability":{"start":{"nanoseconds":1}}}]})",
           "300.1.1.1"},
          {R"({"windows":[{"machine_ids":[{"hostname":"a"}],"unavailability":{"start":{"nanoseconds":1}}},
                 {"machine_ids":[{"hostname":"A"}],"unavailability":{"start":{"nanoseconds":2}}}]})",
           "more than once"},
          {R"({"windows":[{"machine_ids":[{"hostname":"a"}],
                "unavailability":{"start":{"nanoseconds":1},"duration":{"nanoseconds":-1}}}]})",
           "negative"},
      }) {
    HttpResult r = HttpRequest("127.0.0.1", port(), "POST", "/master/maintenance/schedule",
                               bad.body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 400) << bad.body;
    EXPECT_THAT(r.body, HasSubstr(bad.reason)) << bad.body;
  }
  EXPECT_EQ(Get("/master/maintenance/schedule").body, "{}");  // nothing half stored

  HttpResult set = HttpRequest("127.0.0.1", port(), "POST", "/master/maintenance/schedule",
                               schedule, {{"Content-Type", "application/json"}});
  ASSERT_EQ(set.status, 200) << set.body;
  const std::string stored = Get("/maintenance/schedule").body;
  const Struct s = ParseJson(stored);
  ASSERT_EQ(At(s, "windows").list_value().values_size(), 2) << stored;
  EXPECT_THAT(stored, HasSubstr(R"({"hostname":"node-1","ip":"10.0.0.1"})"));
  EXPECT_THAT(stored, HasSubstr(R"("nanoseconds":1700000000000000000)"));
  HttpResult wrapped = Get("/master/maintenance/schedule?jsonp=schedule");
  EXPECT_EQ(wrapped.headers["content-type"], "text/javascript");
  EXPECT_EQ(wrapped.body, "schedule(" + stored + ");");

  cluster->RestartMaster();
  ASSERT_TRUE(WaitForHttp("127.0.0.1", port(), "/health", 200, 10000));
  EXPECT_EQ(Get("/master/maintenance/schedule").body, stored);

  // An empty schedule clears it.
  ASSERT_EQ(HttpRequest("127.0.0.1", port(), "POST", "/master/maintenance/schedule",
                        R"({"windows":[]})", {{"Content-Type", "application/json"}})
                .status,
            200);
  EXPECT_EQ(Get("/master/maintenance/schedule").body, "{}");
}

TEST(MesosWireWebUiTest, AMesosStyleUiFolderIsServed) {
  TempDir ui;
  std::filesystem::create_directories(ui.path() + "/app/shared");
  std::filesystem::create_directories(ui.path() + "/assets/libs");
  std::filesystem::create_directories(ui.path() + "/assets/img");
  WriteFile(ui.path() + "/index.html", "<html><body ng-app=\"mesos\">old ui</body></html>");
  WriteFile(ui.path() + "/app/app.js", "angular.module('mesos', []);");
  WriteFile(ui.path() + "/app/shared/pailer.html", "<div>pailer</div>");
  WriteFile(ui.path() + "/assets/libs/jquery.min.js", "/* jquery */");
  WriteFile(ui.path() + "/assets/mesos.css", "body{}");
  WriteFile(ui.path() + "/assets/img/mesos_logo.png", "\x89PNG");
  WriteFile(ui.path() + "/assets/libs/glyphicons.woff", "wOFF");

  ClusterOptions o;
  o.with_agent = false;
  o.master_flags = {"--webui_dir=" + ui.path()};
  LocalCluster cluster(o);
  ASSERT_TRUE(WaitForHttp("127.0.0.1", cluster.master_port, "/health", 200, 10000));
  auto get = [&](const std::string& target) {
    return HttpRequest("127.0.0.1", cluster.master_port, "GET", target);
  };
  struct Want {
    std::string path, type, body;
  };
  for (const Want& want : std::vector<Want>{
           {"/", "text/html", "old ui"},
           {"/index.html", "text/html", "old ui"},
           {"/app/app.js", "text/javascript", "angular.module"},
           {"/app/shared/pailer.html", "text/html", "pailer"},
           {"/assets/libs/jquery.min.js", "text/javascript", "jquery"},
           {"/assets/mesos.css", "text/css", "body{}"},
           {"/assets/img/mesos_logo.png", "image/png", "PNG"},
           {"/assets/libs/glyphicons.woff", "font/woff", "wOFF"},
       }) {
    HttpResult r = get(want.path);
    EXPECT_EQ(r.status, 200) << want.path;
    EXPECT_THAT(r.headers["content-type"], HasSubstr(want.type)) << want.path;
    EXPECT_THAT(r.body, HasSubstr(want.body)) << want.path;
  }
  EXPECT_EQ(get("/app/missing.js").status, 404);
  HttpResult escape = get("/assets/../../../../etc/passwd");
  EXPECT_THAT(escape.status, AnyOf(400, 403));
  EXPECT_THAT(escape.body, Not(HasSubstr("root:")));
  // The master's own endpoints still win over the folder.
  EXPECT_EQ(get("/master/state").headers["content-type"], "application/json");
}

TEST_F(MesosWireTest, AgentServesItsEndpointsUnderSlave1Too) {
  const uint16_t agent = cluster->agent_port;
  for (const char* path : {"/state", "/slave(1)/state", "/slave(1)/state.json"}) {
    auto state = HttpRequest("127.0.0.1", agent, "GET", path);
    EXPECT_EQ(state.status, 200) << path;
    EXPECT_THAT(state.body, HasSubstr("\"pid\":\"slave(1)@")) << path;
  }
  EXPECT_EQ(HttpRequest("127.0.0.1", agent, "GET", "/slave(1)/health").status, 200);
  // The executor API is there too (and only takes POST).
  EXPECT_EQ(HttpRequest("127.0.0.1", agent, "GET", "/slave(1)/api/v1/executor").status, 405);
  auto jsonp = HttpRequest("127.0.0.1", agent, "GET", "/slave(1)/state?jsonp=cb");
  EXPECT_THAT(jsonp.body, ::testing::StartsWith("cb("));
}

}  // namespace
}  // namespace keel::test
