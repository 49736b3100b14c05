// CurveZMQ on the `zmq` transport: Secure() on both ends encrypts the link
// and the binding end admits only the peers its admission check accepts;
// refusals from one address slow down without slowing anyone else. The
// transports (and, at the end, the `curve` authenticator) are the real
// module libraries, loaded as a daemon loads them; TransportSide starts its
// transport at once, so the sides here are built by hand to call Secure()
// first, as the daemon does.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "keel/authenticator.hpp"
#include "keel/envelope.hpp"
#include "keel/transport.hpp"
#include "kernel/runtime/json_file.hpp"
#include "kernel/runtime/metrics.hpp"
#include "kernel/runtime/module_context.hpp"
#include "kernel/runtime/module_loader.hpp"
#include "tests/support/subprocess.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr const char* kParams =
    R"({"heartbeat_interval": "100ms", "peer_timeout": "1s", "reconnect_initial": "50ms",
        "reconnect_max": "500ms"})";
// A client that re-dials a refusal after 10 ms, always: the gaps between its
// attempts are then the server's doing.
constexpr const char* kEagerParams =
    R"({"heartbeat_interval": "100ms", "peer_timeout": "1s", "reconnect_initial": "10ms",
        "reconnect_max": "10ms"})";

std::string ModuleDir() { return BuildDir() + "/lib/keel/modules"; }

struct KeyPair {
  std::string pub, sec;
};

KeyPair NewKeys() {
  char pub[41], sec[41];
  EXPECT_EQ(zmq_curve_keypair(pub, sec), 0);
  return {pub, sec};
}

TransportKeys ServerKeys(const KeyPair& server) { return {"curve", server.pub, server.sec, ""}; }
TransportKeys ClientKeys(const KeyPair& client, const KeyPair& server) {
  return {"curve", client.pub, client.sec, server.pub};
}

// Loads module `name` of `kind` through the kernel's loader.
template <typename Interface>
Result<std::shared_ptr<Interface>> LoadModule(const std::string& name, ModuleKind kind,
                                              const std::string& parameters_json,
                                              runtime::ModuleHost host) {
  runtime::ModuleLoader loader(runtime::ModuleRegistry({ModuleDir()}),
                               [&host](const runtime::Manifest& m, const Parameters& p) {
                                 return runtime::MakeModuleContext(host, m, p);
                               });
  google::protobuf::Struct params;
  if (auto s = runtime::ParseJsonInto(parameters_json, "parameters", &params); !s.ok()) return s;
  return loader.Load<Interface>(name, kind, params, "test");
}

// Every call of an admission check, and what it answered.
class AdmissionLog {
 public:
  // Admits `allowed` keys (as "principal-<key>"), refuses the rest.
  PeerAdmission Check(std::set<std::string> allowed) {
    return [this, allowed](const PeerAuthRequest& request) {
      std::lock_guard<std::mutex> lock(mu_);
      calls_.push_back({request, Clock::now()});
      cv_.notify_all();
      const std::string key = request.properties.at("public_key");
      if (allowed.count(key)) {
        return AuthOutcome{AuthOutcome::Decision::kAuthenticated, "principal-" + key, "", ""};
      }
      return AuthOutcome{AuthOutcome::Decision::kUnauthorized, "", "", "test: " + key + " refused"};
    };
  }
  // Times at which `key` was asked about, once it was at least `n` times.
  std::vector<Clock::time_point> WaitForCalls(const std::string& key, size_t n,
                                              std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    std::vector<Clock::time_point> times;
    cv_.wait_for(lock, timeout, [&] {
      times.clear();
      for (const auto& c : calls_) {
        if (c.request.properties.at("public_key") == key) times.push_back(c.at);
      }
      return times.size() >= n;
    });
    return times;
  }
  std::vector<PeerAuthRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<PeerAuthRequest> out;
    for (const auto& c : calls_) out.push_back(c.request);
    return out;
  }

 private:
  struct Call {
    PeerAuthRequest request;
    Clock::time_point at;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
};

// One end of a link: the `zmq` module on its own core strand, secured with
// `keys` (unless nullopt) before it starts.
class Side {
 public:
  Side(std::optional<TransportKeys> keys, PeerAdmission admit, const char* params = kParams) {
    auto loaded =
        LoadModule<Transport>("zmq", ModuleKind::kTransport, params, {&io_, &metrics_, ""});
    if (!loaded.ok()) throw std::runtime_error(loaded.status().message());
    transport_ = std::move(loaded).value();
    thread_ = std::thread([this] { io_.run(); });
    if (keys) {
      auto secured = OnCore([&] { return transport_->Secure(*keys, admit); });
      if (!secured.ok()) throw std::runtime_error(secured.message());
    }
    auto started = OnCore([&] { return transport_->Start(&recorder_); });
    if (!started.ok()) throw std::runtime_error(started.message());
  }
  ~Side() {
    OnCore([&] {
      transport_->Stop();
      return 0;
    });
    transport_.reset();
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  template <typename Fn>
  auto OnCore(Fn fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }
  std::string Bind() {
    auto bound = OnCore([&] { return transport_->Bind("tcp://127.0.0.1:0"); });
    EXPECT_TRUE(bound.ok()) << bound.status().message();
    return bound.ok() ? *bound : "";
  }
  PeerId Connect(const std::string& endpoint) {
    auto peer = OnCore([&] { return transport_->Connect(endpoint); });
    EXPECT_TRUE(peer.ok()) << peer.status().message();
    return peer.ok() ? *peer : "";
  }
  Status Send(const PeerId& peer, const std::string& payload) {
    return OnCore([&] { return transport_->Send(peer, {"keel.test.Curve", 1, payload}); });
  }
  // A counter the module exported ("transport/zmq/<name>"), 0 if never.
  double Metric(const std::string& name) {
    auto all = metrics_.Snapshot();
    auto it = all.find("transport/zmq/" + name);
    return it == all.end() ? 0 : it->second;
  }
  bool WaitMetric(const std::string& name, double at_least, std::chrono::milliseconds timeout) {
    for (auto end = Clock::now() + timeout; Clock::now() < end; std::this_thread::sleep_for(10ms)) {
      if (Metric(name) >= at_least) return true;
    }
    return Metric(name) >= at_least;
  }
  Recorder& recorder() { return recorder_; }
  Transport& transport() { return *transport_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  runtime::Metrics metrics_;
  std::shared_ptr<Transport> transport_;
  Recorder recorder_;
  std::thread thread_;
};

// Sends for `duration` (what a client would try while it is kept out).
void KeepSending(Side& side, const PeerId& peer, std::chrono::milliseconds duration) {
  for (auto end = Clock::now() + duration; Clock::now() < end; std::this_thread::sleep_for(20ms)) {
    (void)side.Send(peer, "let me in");
  }
}

TEST(ZmqCurveTest, AdmittedClientExchangesMessagesBothWays) {
  KeyPair server_keys = NewKeys(), client_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({client_keys.pub}));
  Side client(ClientKeys(client_keys, server_keys), nullptr);
  PeerId to_server = client.Connect(server.Bind());
  Recorder& c = client.recorder();
  ASSERT_TRUE(c.WaitFor([&] { return !c.connected_.empty(); })) << "never admitted";
  ASSERT_TRUE(client.Send(to_server, "ping").ok());
  Recorder& s = server.recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }));
  EXPECT_EQ(s.messages_[0].second.payload, "ping");
  ASSERT_TRUE(server.Send(s.messages_[0].first, "pong").ok());
  ASSERT_TRUE(c.WaitFor([&] { return !c.messages_.empty(); }));
  EXPECT_EQ(c.messages_[0].second.payload, "pong");

  auto requests = log.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].mechanism, "curve");
  EXPECT_EQ(requests[0].properties.at("public_key"), client_keys.pub);
  EXPECT_EQ(requests[0].properties.at("address"), "127.0.0.1");
  EXPECT_EQ(server.Metric("peers_refused"), 0);
}

TEST(ZmqCurveTest, RefusedClientNeverDeliversAMessage) {
  KeyPair server_keys = NewKeys(), client_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({}));
  Side client(ClientKeys(client_keys, server_keys), nullptr);
  PeerId to_server = client.Connect(server.Bind());
  ASSERT_EQ(log.WaitForCalls(client_keys.pub, 1).size(), 1u) << "admit never saw the key";
  KeepSending(client, to_server, 1s);
  EXPECT_TRUE(server.recorder().messages_.empty());
  EXPECT_TRUE(server.recorder().connected_.empty());
  EXPECT_TRUE(client.recorder().connected_.empty());
  EXPECT_TRUE(server.WaitMetric("peers_refused", 1, 2s));
  // The client is told, and keeps trying (the master may learn its key).
  EXPECT_TRUE(client.WaitMetric("refused_by_server", 1, 2s));
  EXPECT_GE(log.WaitForCalls(client_keys.pub, 2).size(), 2u) << "the client gave up";
  EXPECT_EQ(log.requests()[0].properties.at("address"), "127.0.0.1");
}

TEST(ZmqCurveTest, PlainLibzmqClientDeliversNothingToASecuredServer) {
  KeyPair server_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({}));
  std::string endpoint = server.Bind();
  void* context = zmq_ctx_new();
  void* dealer = zmq_socket(context, ZMQ_DEALER);
  int linger = 0;
  zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
  ASSERT_EQ(zmq_connect(dealer, endpoint.c_str()), 0);
  for (const std::string& body :
       {EncodeEnvelope({"keel.transport.Hello", 1, ""}), EncodeEnvelope({"keel.test.X", 1, "x"})}) {
    zmq_send(dealer, body.data(), body.size(), ZMQ_DONTWAIT);
  }
  // Both ends see the mechanisms differ; when the plain end hangs up first,
  // the server sees only a broken handshake and counts it malformed.
  bool counted = false;
  for (int i = 0; i < 150 && !counted; ++i, std::this_thread::sleep_for(20ms)) {
    counted = server.Metric("peers_refused") +
                  server.OnCore([&] { return server.transport().Counters(); }).malformed >
              0;
  }
  EXPECT_TRUE(counted) << "the failed handshake was not counted";
  std::this_thread::sleep_for(300ms);
  zmq_close(dealer);
  zmq_ctx_term(context);
  EXPECT_TRUE(server.recorder().messages_.empty());
  EXPECT_TRUE(server.recorder().connected_.empty());
  EXPECT_TRUE(log.requests().empty()) << "no CURVE handshake, so nothing to admit";
}

TEST(ZmqCurveTest, UnsecuredOrWronglyKeyedTransportDeliversNothing) {
  KeyPair server_keys = NewKeys(), client_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({client_keys.pub}));
  std::string endpoint = server.Bind();
  Side plain(std::nullopt, nullptr);
  // Its key is allowed, but it knows another server key: it cannot finish
  // the handshake.
  Side wrong_server(ClientKeys(client_keys, NewKeys()), nullptr);
  PeerId a = plain.Connect(endpoint), b = wrong_server.Connect(endpoint);
  std::thread t([&] { KeepSending(plain, a, 1500ms); });
  KeepSending(wrong_server, b, 1500ms);
  t.join();
  EXPECT_TRUE(server.recorder().messages_.empty());
  EXPECT_TRUE(server.recorder().connected_.empty());
  EXPECT_TRUE(plain.recorder().connected_.empty());
  EXPECT_TRUE(wrong_server.recorder().connected_.empty());
  EXPECT_TRUE(log.requests().empty());
  EXPECT_GE(server.Metric("peers_refused"), 2);
  // The server just hangs up on a HELLO it cannot read; the client says why
  // that may be.
  EXPECT_TRUE(wrong_server.WaitMetric("refused_by_server", 1, 2s));
}

TEST(ZmqCurveTest, AnAdmittedPeerCannotSpeakUnderAnotherPeersRoutingId) {
  KeyPair server_keys = NewKeys(), victim_keys = NewKeys(), impostor_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({victim_keys.pub, impostor_keys.pub}));
  std::string endpoint = server.Bind();
  Side victim(ClientKeys(victim_keys, server_keys), nullptr);
  PeerId to_server = victim.Connect(endpoint);
  Recorder& v = victim.recorder();
  ASSERT_TRUE(v.WaitFor([&] { return !v.connected_.empty(); }));
  ASSERT_TRUE(victim.Send(to_server, "victim").ok());
  Recorder& s = server.recorder();
  ASSERT_TRUE(s.WaitFor([&] { return !s.messages_.empty(); }));
  const PeerId victim_id = s.messages_[0].first;

  // A DEALER chooses its own routing id; this one, admitted under another
  // principal, takes the victim's.
  void* context = zmq_ctx_new();
  void* dealer = zmq_socket(context, ZMQ_DEALER);
  int linger = 0;
  zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
  zmq_setsockopt(dealer, ZMQ_ROUTING_ID, victim_id.data(), victim_id.size());
  zmq_setsockopt(dealer, ZMQ_CURVE_SERVERKEY, server_keys.pub.data(), 40);
  zmq_setsockopt(dealer, ZMQ_CURVE_PUBLICKEY, impostor_keys.pub.data(), 40);
  zmq_setsockopt(dealer, ZMQ_CURVE_SECRETKEY, impostor_keys.sec.data(), 40);
  ASSERT_EQ(zmq_connect(dealer, endpoint.c_str()), 0);
  std::string body = EncodeEnvelope({"keel.test.Curve", 1, "impostor"});
  zmq_send(dealer, body.data(), body.size(), 0);
  EXPECT_TRUE(server.WaitMetric("peers_refused", 1, 3s)) << "the impostor was not noticed";
  std::this_thread::sleep_for(200ms);
  zmq_close(dealer);
  zmq_ctx_term(context);
  std::lock_guard<std::mutex> lock(s.mu_);
  for (const auto& [peer, m] : s.messages_) EXPECT_NE(m.payload, "impostor");
}

TEST(ZmqCurveTest, RefusalsFromOneAddressSlowDownButAdmittedPeersGetThroughAtOnce) {
  KeyPair server_keys = NewKeys(), bad_keys = NewKeys(), good_keys = NewKeys();
  AdmissionLog log;
  Side server(ServerKeys(server_keys), log.Check({good_keys.pub}));
  std::string endpoint = server.Bind();
  Side bad(ClientKeys(bad_keys, server_keys), nullptr, kEagerParams);
  bad.Connect(endpoint);
  // Refusal delays 100, 200, 400, 800 ms: the fifth attempt comes about
  // 1.5 s after the first (without them: after ~5 re-dials of 10 ms).
  auto times = log.WaitForCalls(bad_keys.pub, 5);
  ASSERT_EQ(times.size(), 5u);
  for (size_t i = 1; i < times.size(); ++i) {
    auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(times[i] - times[i - 1]);
    EXPECT_GE(gap, 90ms * (1 << (i - 1))) << "refusal " << i << " came back too soon";
  }
  // The fifth refusal is held back 1.6 s; a good peer arriving now from the
  // same address is admitted meanwhile.
  auto start = Clock::now();
  Side good(ClientKeys(good_keys, server_keys), nullptr);
  good.Connect(endpoint);
  Recorder& g = good.recorder();
  ASSERT_TRUE(g.WaitFor([&] { return !g.connected_.empty(); }, 5s));
  auto admitted_after = Clock::now() - start;
  EXPECT_LT(admitted_after, 1s) << "the admitted peer waited for the refused one";
  auto good_calls = log.WaitForCalls(good_keys.pub, 1);
  ASSERT_EQ(good_calls.size(), 1u);
  EXPECT_LT(good_calls[0] - times.back(), 1400ms)
      << "the good peer was asked about only after the refusal went out";
  EXPECT_TRUE(server.recorder().messages_.empty());
}

TEST(ZmqCurveTest, SecureRefusesBadKeysNamingWhatIsWrong) {
  auto transport = LoadModule<Transport>("zmq", ModuleKind::kTransport, kParams, {});
  ASSERT_TRUE(transport.ok()) << transport.status().message();
  Transport& t = **transport;
  KeyPair k = NewKeys(), other = NewKeys();
  struct Case {
    TransportKeys keys;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"plain", k.pub, k.sec, ""}, "mechanism 'plain'"},
      {{"curve", k.pub.substr(0, 39), k.sec, ""}, "public_key is not a CurveZMQ key"},
      {{"curve", k.pub, std::string(40, '"'), ""}, "secret_key is not a CurveZMQ key"},
      {{"curve", other.pub, k.sec, ""}, "public_key is not the public half of secret_key"},
      {{"curve", k.pub, k.sec, "not-a-key"}, "server_key is not a CurveZMQ key"},
  };
  for (const auto& c : cases) {
    auto status = t.Secure(c.keys, nullptr);
    ASSERT_FALSE(status.ok()) << c.expected;
    EXPECT_THAT(status.message(), HasSubstr(c.expected));
  }
  EXPECT_TRUE(t.Secure({"curve", k.pub, k.sec, other.pub}, nullptr).ok());

  // The tcp transport keeps the SDK's refusal.
  auto tcp = LoadModule<Transport>("tcp", ModuleKind::kTransport, kParams, {});
  ASSERT_TRUE(tcp.ok()) << tcp.status().message();
  EXPECT_FALSE((*tcp)->Secure({"curve", k.pub, k.sec, ""}, nullptr).ok());
}

TEST(ZmqCurveTest, SecureComesBeforeStartAndAClientNeedsTheServerKey) {
  KeyPair k = NewKeys();
  Side started(std::nullopt, nullptr);
  auto late = started.OnCore([&] { return started.transport().Secure(ServerKeys(k), nullptr); });
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.message(), HasSubstr("before Start()"));

  Side server_only(ServerKeys(k), nullptr);
  auto connected =
      server_only.OnCore([&] { return server_only.transport().Connect("tcp://127.0.0.1:9"); });
  ASSERT_FALSE(connected.ok());
  EXPECT_THAT(connected.status().message(), HasSubstr("no server key"));
}

// Key files as `keelctl keys generate` writes them, read by the `curve`
// authenticator module, whose keys and admission check secure the link.
class ZmqCurveWithAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keel-zmq-curve-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  std::string KeyFile(const std::string& name, const KeyPair& k, mode_t mode = 0600) {
    return Write(name + ".key",
                 R"({"public_key":")" + k.pub + R"(","secret_key":")" + k.sec + "\"}\n", mode);
  }
  Result<std::shared_ptr<Authenticator>> Curve(const std::string& params) {
    return LoadModule<Authenticator>("curve", ModuleKind::kAuthenticator, params, {});
  }
  std::string dir_;
};

TEST_F(ZmqCurveWithAuthenticatorTest, SecuresALinkFromKeyFiles) {
  KeyPair master_keys = NewKeys(), agent_keys = NewKeys(), stranger_keys = NewKeys();
  std::string allowed = Write("allowed_keys", "# agents\n" + agent_keys.pub + " rack1-a\n", 0644);
  std::string master_pub = Write("master.pub", master_keys.pub + "\n", 0644);
  auto master_auth = Curve(R"({"key_file": ")" + KeyFile("master", master_keys) +
                           R"(", "allowed_keys_file": ")" + allowed + "\"}");
  ASSERT_TRUE(master_auth.ok()) << master_auth.status().message();
  auto agent_auth = Curve(R"({"key_file": ")" + KeyFile("agent", agent_keys) +
                          R"(", "master_public_key": ")" + master_pub + "\"}");
  ASSERT_TRUE(agent_auth.ok()) << agent_auth.status().message();
  auto stranger_auth = Curve(R"({"key_file": ")" + KeyFile("stranger", stranger_keys) +
                             R"(", "master_public_key": ")" + master_keys.pub + "\"}");
  ASSERT_TRUE(stranger_auth.ok()) << stranger_auth.status().message();

  std::shared_ptr<Authenticator> a = *master_auth;
  std::atomic<int> refusals{0};
  PeerAdmission admit = [a, &refusals](const PeerAuthRequest& r) {
    auto outcome = a->AuthenticatePeer(r);
    if (outcome.decision != AuthOutcome::Decision::kAuthenticated) refusals++;
    return outcome;
  };
  Side master(*(*master_auth)->TransportKeysOf(), admit);
  Side agent(*(*agent_auth)->TransportKeysOf(), nullptr);
  Side stranger(*(*stranger_auth)->TransportKeysOf(), nullptr);
  std::string endpoint = master.Bind();
  PeerId to_master = agent.Connect(endpoint);
  PeerId stranger_to_master = stranger.Connect(endpoint);
  Recorder& r = agent.recorder();
  ASSERT_TRUE(r.WaitFor([&] { return !r.connected_.empty(); }));
  ASSERT_TRUE(agent.Send(to_master, "registered").ok());
  Recorder& m = master.recorder();
  ASSERT_TRUE(m.WaitFor([&] { return !m.messages_.empty(); }));
  EXPECT_EQ(m.messages_[0].second.payload, "registered");
  KeepSending(stranger, stranger_to_master, 500ms);
  EXPECT_EQ(m.message_count(), 1u);
  EXPECT_GE(refusals.load(), 1);
}

TEST_F(ZmqCurveWithAuthenticatorTest, ABadKeyFileIsALoadErrorNamingModuleAndFile) {
  std::string open_key = KeyFile("open", NewKeys(), 0644);
  auto loaded = Curve(R"({"key_file": ")" + open_key + R"(", "master_public_key": ")" +
                      NewKeys().pub + "\"}");
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("module 'curve'"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("key_file " + open_key + ": mode 0644"));
  auto unset = Curve(R"({"key_file": ")" + KeyFile("k", NewKeys()) + "\"}");
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), HasSubstr("neither is set"));
}

}  // namespace
}  // namespace keel::test
