// The `curve` authenticator: its files (formats, permissions, errors naming
// file and line) and its answers to the transport's admission check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "modules/authenticator/curve/curve_authenticator.hpp"
#include "modules/authenticator/curve/key_files.hpp"

namespace keel::modules {
namespace {

using ::testing::HasSubstr;
using Decision = AuthOutcome::Decision;

CurveKeyPair NewPair() {
  char pub[41], sec[41];
  EXPECT_EQ(zmq_curve_keypair(pub, sec), 0);
  return {pub, sec};
}

std::string PairJson(const CurveKeyPair& p) {
  return R"({"public_key":")" + p.public_key + R"(","secret_key":")" + p.secret_key + "\"}\n";
}

class CurveFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/keel-curve-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to dir/name with `mode` (exactly: chmod after writing).
  std::string Write(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << text;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  std::string KeyFile(const CurveKeyPair& pair, const std::string& name = "self.key") {
    return Write(name, PairJson(pair), 0600);
  }
  std::string ErrorOf(const CurveSettings& settings) {
    auto keys = LoadCurveKeys(settings);
    EXPECT_FALSE(keys.ok());
    return keys.ok() ? "" : keys.status().message();
  }

  std::string dir_;
};

TEST_F(CurveFilesTest, Z85KeysAreFortyDecodableCharacters) {
  CurveKeyPair p = NewPair();
  EXPECT_TRUE(IsZ85Key(p.public_key));
  EXPECT_FALSE(IsZ85Key(p.public_key.substr(1)));
  EXPECT_FALSE(IsZ85Key(p.public_key + "0"));
  EXPECT_FALSE(IsZ85Key(std::string(40, '"')));  // not in the alphabet
  EXPECT_FALSE(IsZ85Key(std::string(40, '#')));  // overflows: no key starts with '#'
}

TEST_F(CurveFilesTest, ReadsAKeyPairFile) {
  CurveKeyPair p = NewPair();
  auto read = ReadKeyPairFile(KeyFile(p));
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->public_key, p.public_key);
  EXPECT_EQ(read->secret_key, p.secret_key);
}

TEST_F(CurveFilesTest, RefusesAKeyPairOthersCouldReadOrWrite) {
  CurveKeyPair p = NewPair();
  for (mode_t mode : {0640, 0604, 0620, 0660, 0644}) {
    std::string path = Write("open.key", PairJson(p), mode);
    auto read = ReadKeyPairFile(path);
    ASSERT_FALSE(read.ok()) << std::oct << mode;
    EXPECT_THAT(read.status().message(), HasSubstr(path + ": mode 0"));
    EXPECT_THAT(read.status().message(), HasSubstr("chmod 600"));
  }
  EXPECT_TRUE(ReadKeyPairFile(Write("owner-only.key", PairJson(p), 0400)).ok());
}

TEST_F(CurveFilesTest, KeyPairErrorsNameTheFileAndField) {
  CurveKeyPair p = NewPair();
  CurveKeyPair q = NewPair();
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not json", ": not a JSON object"},
      {R"({"public_key":")" + p.public_key + "\"}", ": field 'secret_key': missing"},
      {R"({"public_key":42,"secret_key":")" + p.secret_key + "\"}",
       ": field 'public_key': must be a string"},
      {R"({"public_key":"short","secret_key":")" + p.secret_key + "\"}",
       ": field 'public_key': not a CurveZMQ key"},
      {R"({"public_key":")" + p.public_key + R"(","secret_key":")" + q.secret_key + "\"}",
       ": field 'public_key': is not the public half of field 'secret_key'"},
  };
  for (const auto& c : cases) {
    std::string path = Write("bad.key", c.text, 0600);
    auto read = ReadKeyPairFile(path);
    ASSERT_FALSE(read.ok()) << c.text;
    EXPECT_THAT(read.status().message(), HasSubstr(path + c.expected)) << c.text;
  }
  auto missing = ReadKeyPairFile(dir_ + "/nowhere.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr(dir_ + "/nowhere.key: cannot open"));
}

TEST_F(CurveFilesTest, ParsesAnAllowList) {
  CurveKeyPair a = NewPair(), b = NewPair(), c = NewPair();
  std::string path = Write("allowed",
                           "# agents of rack 1\n"
                           "\n" +
                               a.public_key + " agent-one\n" +  //
                               "   " + b.public_key + "\t # no principal: the default\n" +
                               c.public_key + " web-3 # trailing comment\r\n" + "  # indented\n",
                           0644);
  auto allowed = ReadAllowedKeysFile(path);
  ASSERT_TRUE(allowed.ok()) << allowed.status().message();
  EXPECT_EQ(allowed->size(), 3u);
  EXPECT_EQ(allowed->at(a.public_key), "agent-one");
  EXPECT_EQ(allowed->at(b.public_key), "agent-" + b.public_key.substr(0, 8));
  EXPECT_EQ(allowed->at(c.public_key), "web-3");
}

TEST_F(CurveFilesTest, AllowListErrorsNameFileAndLine) {
  CurveKeyPair a = NewPair();
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"# header\n\nnot-a-key agent\n", ":3: 'not-a-key' is not a CurveZMQ key"},
      {a.public_key + " one two\n", ":1: expected '<public key> [principal]', found 3 words"},
      {a.public_key + " one\n# again:\n" + a.public_key + " two\n",
       ":3: key " + a.public_key + " is already listed on line 1"},
      {a.public_key + " caf\xc3\xa9\n", ":1: principal 'caf\xc3\xa9' must be printable ASCII"},
      {a.public_key.substr(0, 39) + "\n", ":1: '" + a.public_key.substr(0, 39) + "' is not"},
  };
  for (const auto& c : cases) {
    std::string path = Write("allowed", c.text, 0644);
    auto read = ReadAllowedKeysFile(path);
    ASSERT_FALSE(read.ok()) << c.text;
    EXPECT_THAT(read.status().message(), HasSubstr(path + c.expected));
  }
}

TEST_F(CurveFilesTest, RefusesAnAllowListOthersCouldWrite) {
  CurveKeyPair a = NewPair();
  for (mode_t mode : {0664, 0646, 0666}) {
    std::string path = Write("allowed", a.public_key + "\n", mode);
    auto read = ReadAllowedKeysFile(path);
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.status().message(), HasSubstr(path + ": mode 0"));
  }
  EXPECT_TRUE(ReadAllowedKeysFile(Write("allowed", a.public_key + "\n", 0640)).ok());
}

TEST_F(CurveFilesTest, ExactlyOneSideMustBeConfigured) {
  std::string key = KeyFile(NewPair());
  std::string allowed = Write("allowed", "", 0644);
  EXPECT_THAT(ErrorOf({key, allowed, NewPair().public_key}), HasSubstr("both are set"));
  EXPECT_THAT(ErrorOf({key, "", ""}), HasSubstr("neither is set"));
  EXPECT_THAT(ErrorOf({key, "", ""}), HasSubstr("exactly one of allowed_keys_file"));
  EXPECT_THAT(ErrorOf({"", allowed, ""}), HasSubstr("key_file"));
}

TEST_F(CurveFilesTest, ErrorsNameTheParameter) {
  std::string key = KeyFile(NewPair());
  std::string open_key = Write("open.key", PairJson(NewPair()), 0644);
  EXPECT_THAT(ErrorOf({open_key, Write("allowed", "", 0644), ""}),
              HasSubstr("key_file " + open_key + ": mode 0644"));
  std::string bad_list = Write("bad-list", "junk\n", 0644);
  EXPECT_THAT(ErrorOf({key, bad_list, ""}),
              HasSubstr("allowed_keys_file " + bad_list + ":1: 'junk'"));
  EXPECT_THAT(ErrorOf({key, "", dir_ + "/master.pub"}),
              HasSubstr("master_public_key: neither a CurveZMQ public key"));
  std::string bad_pub = Write("bad.pub", "hello\n", 0644);
  EXPECT_THAT(ErrorOf({key, "", bad_pub}), HasSubstr(bad_pub + ": not a CurveZMQ key"));
  std::string open_pub = Write("open.pub", NewPair().public_key + "\n", 0666);
  EXPECT_THAT(ErrorOf({key, "", open_pub}), HasSubstr(open_pub + ": mode 0666"));
}

TEST_F(CurveFilesTest, AgentTakesTheMastersKeyOrItsPubFile) {
  CurveKeyPair self = NewPair(), master = NewPair();
  std::string key = KeyFile(self);
  for (const std::string& given :
       {master.public_key, Write("master.pub", "\n" + master.public_key + "\n", 0644)}) {
    auto keys = LoadCurveKeys({key, "", given});
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    CurveAuthenticator agent(std::move(keys).value());
    auto transport = agent.TransportKeysOf();
    ASSERT_TRUE(transport.has_value());
    EXPECT_EQ(transport->mechanism, "curve");
    EXPECT_EQ(transport->public_key, self.public_key);
    EXPECT_EQ(transport->secret_key, self.secret_key);
    EXPECT_EQ(transport->server_key, master.public_key);
    // An agent admits nobody.
    auto outcome = agent.AuthenticatePeer({"curve", {{"public_key", master.public_key}}});
    EXPECT_EQ(outcome.decision, Decision::kUnauthorized);
  }
}

class CurveAuthenticatorTest : public CurveFilesTest {
 protected:
  void SetUp() override {
    CurveFilesTest::SetUp();
    self_ = NewPair();
    admitted_ = NewPair();
    std::string allowed = Write("allowed", admitted_.public_key + " rack1-a\n", 0600);
    auto keys = LoadCurveKeys({KeyFile(self_), allowed, ""});
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    master_ = std::make_unique<CurveAuthenticator>(std::move(keys).value());
  }
  CurveKeyPair self_, admitted_;
  std::unique_ptr<CurveAuthenticator> master_;
};

TEST_F(CurveAuthenticatorTest, AdmitsAllowedKeysAsTheirPrincipal) {
  auto outcome = master_->AuthenticatePeer(
      {"curve", {{"public_key", admitted_.public_key}, {"address", "10.0.0.7"}}});
  EXPECT_EQ(outcome.decision, Decision::kAuthenticated);
  EXPECT_EQ(outcome.principal, "rack1-a");
}

TEST_F(CurveAuthenticatorTest, RefusesOtherKeysNamingKeyAndAddress) {
  std::string stranger = NewPair().public_key;
  auto outcome =
      master_->AuthenticatePeer({"curve", {{"public_key", stranger}, {"address", "10.0.0.9"}}});
  EXPECT_EQ(outcome.decision, Decision::kUnauthorized);
  EXPECT_TRUE(outcome.principal.empty());
  EXPECT_THAT(outcome.message, HasSubstr(stranger));
  EXPECT_THAT(outcome.message, HasSubstr("10.0.0.9"));
  EXPECT_EQ(master_->AuthenticatePeer({"curve", {}}).decision, Decision::kUnauthorized);
}

TEST_F(CurveAuthenticatorTest, LeavesOtherMechanismsAndHttpToOthers) {
  EXPECT_EQ(master_->AuthenticatePeer({"basic", {{"principal", "a"}, {"secret", "b"}}}).decision,
            Decision::kNotMine);
  EXPECT_EQ(master_->AuthenticateHttp({"keel-master-readwrite", {{"authorization", "Basic eA=="}}})
                .decision,
            Decision::kNotMine);
}

TEST_F(CurveAuthenticatorTest, MasterHasNoServerKey) {
  auto transport = master_->TransportKeysOf();
  ASSERT_TRUE(transport.has_value());
  EXPECT_EQ(transport->public_key, self_.public_key);
  EXPECT_EQ(transport->secret_key, self_.secret_key);
  EXPECT_TRUE(transport->server_key.empty());
}

TEST_F(CurveAuthenticatorTest, AnswersFromManyThreadsAtOnce) {
  std::string stranger = NewPair().public_key;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        bool good = i % 2 == 0;
        auto outcome = master_->AuthenticatePeer(
            {"curve", {{"public_key", good ? admitted_.public_key : stranger}}});
        auto expected = good ? Decision::kAuthenticated : Decision::kUnauthorized;
        if (outcome.decision != expected) wrong++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace keel::modules
