#include "modules/authenticator/basic/basic_authenticator.hpp"

#include <crypt.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace keel::modules {
namespace {

using Decision = AuthOutcome::Decision;

std::string Base64(std::string_view text) {
  std::string out(sodium_base64_ENCODED_LEN(text.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                    text.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

std::string Argon2id(const std::string& secret) {
  char hash[crypto_pwhash_STRBYTES];
  EXPECT_EQ(crypto_pwhash_str(hash, secret.data(), secret.size(), crypto_pwhash_OPSLIMIT_MIN,
                              crypto_pwhash_MEMLIMIT_MIN),
            0);
  return hash;
}

std::string Sha512Crypt(const std::string& secret) {
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_r(secret.c_str(), "$6$somesalt$", data.get());
  EXPECT_NE(hash, nullptr);
  return hash == nullptr ? "" : hash;
}

class BasicAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    std::string pattern = (std::filesystem::temp_directory_path() / "keel-basic-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/credentials.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the credentials file with `mode` (after the umask would have).
  void Write(const std::string& json, mode_t mode = 0600) {
    std::ofstream(path_, std::ios::trunc) << json;
    ASSERT_EQ(chmod(path_.c_str(), mode), 0);
  }
  void WriteEntries(const std::string& entries) { Write("{\"credentials\": [" + entries + "]}"); }

  // The message a refused file gets, or "" when it loads.
  std::string LoadError() {
    try {
      BasicAuthenticator authenticator(path_);
      return "";
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
  }

  static HttpAuthRequest Http(const std::string& authorization) {
    HttpAuthRequest request;
    request.realm = "keel-master-readwrite";
    if (!authorization.empty()) request.headers["authorization"] = authorization;
    return request;
  }
  static HttpAuthRequest BasicHttp(const std::string& principal, const std::string& secret) {
    return Http("Basic " + Base64(principal + ":" + secret));
  }
  static PeerAuthRequest Peer(const std::string& mechanism, const std::string& principal,
                              const std::string& secret) {
    return {mechanism, {{"principal", principal}, {"secret", secret}, {"address", "10.0.0.7"}}};
  }

  std::string dir_;
  std::string path_;
};

constexpr const char* kChallenge = "Basic realm=\"keel-master-readwrite\"";

TEST_F(BasicAuthenticatorTest, PlainSecretRight) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf"));
  EXPECT_EQ(outcome.decision, Decision::kAuthenticated);
  EXPECT_EQ(outcome.principal, "ops");
  EXPECT_EQ(outcome.challenge, kChallenge);
}

TEST_F(BasicAuthenticatorTest, PlainSecretWrong) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  for (const char* wrong : {"kitesurF", "kitesur", "kitesurfing", ""}) {
    auto outcome = authenticator.AuthenticateHttp(BasicHttp("ops", wrong));
    EXPECT_EQ(outcome.decision, Decision::kUnauthorized) << wrong;
    EXPECT_EQ(outcome.challenge, kChallenge);
    EXPECT_EQ(outcome.message, "wrong secret for principal 'ops'");
    EXPECT_TRUE(outcome.principal.empty());
  }
}

TEST_F(BasicAuthenticatorTest, UnknownPrincipal) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(BasicHttp("dev", "kitesurf"));
  EXPECT_EQ(outcome.decision, Decision::kUnauthorized);
  EXPECT_EQ(outcome.challenge, kChallenge);
  EXPECT_EQ(outcome.message, "unknown principal 'dev'");
}

TEST_F(BasicAuthenticatorTest, ControlBytesOfAPrincipalAreEscapedInTheMessage) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(BasicHttp("dev\nFAKE LOG LINE", "x"));
  EXPECT_EQ(outcome.message, "unknown principal 'dev\\x0aFAKE LOG LINE'");
}

TEST_F(BasicAuthenticatorTest, MissingHeaderIsNotMineWithChallenge) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(Http(""));
  EXPECT_EQ(outcome.decision, Decision::kNotMine);
  EXPECT_EQ(outcome.challenge, kChallenge);
}

TEST_F(BasicAuthenticatorTest, OtherSchemeIsNotMineWithChallenge) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  for (const char* value : {"Bearer eyJhbGciOi", "Basicb3BzOmtpdGVzdXJm", "Digest x"}) {
    auto outcome = authenticator.AuthenticateHttp(Http(value));
    EXPECT_EQ(outcome.decision, Decision::kNotMine) << value;
    EXPECT_EQ(outcome.challenge, kChallenge);
  }
}

TEST_F(BasicAuthenticatorTest, SchemeIsCaseInsensitive) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(Http("basic   " + Base64("ops:kitesurf") + " "));
  EXPECT_EQ(outcome.decision, Decision::kAuthenticated);
}

TEST_F(BasicAuthenticatorTest, UndecodableBase64IsUnauthorized) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  std::string good = Base64("ops:kitesurf");
  for (const std::string& bad :
       {std::string("!!!!"), good.substr(0, good.size() - 1), good + "=", good + " x"}) {
    auto outcome = authenticator.AuthenticateHttp(Http("Basic " + bad));
    EXPECT_EQ(outcome.decision, Decision::kUnauthorized) << bad;
    EXPECT_EQ(outcome.challenge, kChallenge);
    EXPECT_EQ(outcome.message, "Basic credentials are not valid base64") << bad;
  }
  EXPECT_EQ(authenticator.AuthenticateHttp(Http("Basic")).message, "Basic without credentials");
}

TEST_F(BasicAuthenticatorTest, NoColonIsUnauthorized) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  auto outcome = authenticator.AuthenticateHttp(Http("Basic " + Base64("opskitesurf")));
  EXPECT_EQ(outcome.decision, Decision::kUnauthorized);
  EXPECT_EQ(outcome.challenge, kChallenge);
  EXPECT_EQ(outcome.message, "Basic credentials have no ':' between principal and secret");
}

TEST_F(BasicAuthenticatorTest, SecretMayHoldAColon) {
  WriteEntries(R"({"principal": "ops", "secret": "a:b"})");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "a:b")).decision,
            Decision::kAuthenticated);
}

TEST_F(BasicAuthenticatorTest, Argon2idHash) {
  WriteEntries(R"({"principal": "ops", "secret": ")" + Argon2id("kitesurf") + "\"}");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  auto wrong = authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurF"));
  EXPECT_EQ(wrong.decision, Decision::kUnauthorized);
  EXPECT_EQ(wrong.message, "wrong secret for principal 'ops'");
}

TEST_F(BasicAuthenticatorTest, Sha512CryptHash) {
  std::string hash = Sha512Crypt("kitesurf");
  ASSERT_EQ(hash.substr(0, 12), "$6$somesalt$");
  WriteEntries(R"({"principal": "ops", "secret": ")" + hash + "\"}");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurF")).decision,
            Decision::kUnauthorized);
  // crypt(3) stops at a NUL; the secret sent must not.
  EXPECT_EQ(
      authenticator.AuthenticateHttp(BasicHttp("ops", std::string("kitesurf\0x", 10))).decision,
      Decision::kUnauthorized);
  // Hashing the hash text must not match either.
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", hash)).decision,
            Decision::kUnauthorized);
}

TEST_F(BasicAuthenticatorTest, PeerBasic) {
  WriteEntries(R"({"principal": "agent", "secret": "s3cret"},
                  {"principal": "ops", "secret": ")" +
               Sha512Crypt("kitesurf") + "\"}");
  BasicAuthenticator authenticator(path_);
  auto right = authenticator.AuthenticatePeer(Peer("basic", "agent", "s3cret"));
  EXPECT_EQ(right.decision, Decision::kAuthenticated);
  EXPECT_EQ(right.principal, "agent");
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("basic", "ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  auto wrong = authenticator.AuthenticatePeer(Peer("basic", "agent", "s3cre"));
  EXPECT_EQ(wrong.decision, Decision::kUnauthorized);
  EXPECT_EQ(wrong.message, "wrong secret for principal 'agent'");
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("basic", "nobody", "s3cret")).message,
            "unknown principal 'nobody'");
  EXPECT_EQ(authenticator.AuthenticatePeer({"basic", {{"secret", "s3cret"}}}).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.AuthenticatePeer({"basic", {{"principal", "agent"}}}).decision,
            Decision::kUnauthorized);
}

TEST_F(BasicAuthenticatorTest, PeerOtherMechanismIsNotMine) {
  WriteEntries(R"({"principal": "agent", "secret": "s3cret"})");
  BasicAuthenticator authenticator(path_);
  PeerAuthRequest curve{"curve", {{"public_key", std::string(40, 'a')}, {"address", "10.0.0.7"}}};
  EXPECT_EQ(authenticator.AuthenticatePeer(curve).decision, Decision::kNotMine);
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("BASIC", "agent", "s3cret")).decision,
            Decision::kNotMine);
}

TEST_F(BasicAuthenticatorTest, SafeFromManyThreads) {
  WriteEntries(R"({"principal": "a", "secret": "one"}, {"principal": "b", "secret": ")" +
               Sha512Crypt("two") + R"("}, {"principal": "c", "secret": ")" + Argon2id("three") +
               "\"}");
  BasicAuthenticator authenticator(path_);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        bool ok = authenticator.AuthenticateHttp(BasicHttp("a", "one")).decision ==
                      Decision::kAuthenticated &&
                  authenticator.AuthenticatePeer(Peer("basic", "b", "two")).decision ==
                      Decision::kAuthenticated &&
                  authenticator.AuthenticateHttp(BasicHttp("c", "three")).decision ==
                      Decision::kAuthenticated &&
                  authenticator.AuthenticateHttp(BasicHttp("b", "one")).decision ==
                      Decision::kUnauthorized;
        if (!ok) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// The verified-secret cache.

TEST_F(BasicAuthenticatorTest, RepeatOfAHashedSecretIsAnsweredFromTheCache) {
  WriteEntries(R"({"principal": "ops", "secret": ")" + Argon2id("kitesurf") +
               R"("}, {"principal": "agent", "secret": ")" + Sha512Crypt("s3cret") + "\"}");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.hash_verifications(), 0u);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.hash_verifications(), 1u);
  for (int i = 0; i < 3; ++i) {
    auto again = authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf"));
    EXPECT_EQ(again.decision, Decision::kAuthenticated);
    EXPECT_EQ(again.principal, "ops");
    EXPECT_EQ(again.challenge, kChallenge);
  }
  EXPECT_EQ(authenticator.hash_verifications(), 1u);
  // SHA-512 crypt too, and peers share the cache with HTTP.
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("basic", "agent", "s3cret")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("agent", "s3cret")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.hash_verifications(), 2u);
}

TEST_F(BasicAuthenticatorTest, WrongSecretIsHashedEveryTime) {
  WriteEntries(R"({"principal": "ops", "secret": ")" + Argon2id("kitesurf") +
               R"("}, {"principal": "agent", "secret": ")" + Sha512Crypt("s3cret") + "\"}");
  BasicAuthenticator authenticator(path_);
  for (uint64_t i = 1; i <= 3; ++i) {
    auto wrong = authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurF"));
    EXPECT_EQ(wrong.decision, Decision::kUnauthorized);
    EXPECT_EQ(wrong.message, "wrong secret for principal 'ops'");
    EXPECT_EQ(authenticator.hash_verifications(), i);
  }
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("basic", "agent", "s3cre")).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.AuthenticatePeer(Peer("basic", "agent", "s3cre")).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.hash_verifications(), 5u);
  // A right secret cached does not let a wrong one through, nor stop it being hashed.
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.hash_verifications(), 6u);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurF")).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.hash_verifications(), 7u);
}

TEST_F(BasicAuthenticatorTest, CacheIsPerPrincipalAndSecret) {
  // The same hash for two principals: a match for one is not one for the other.
  std::string hash = Sha512Crypt("shared");
  WriteEntries(R"({"principal": "a", "secret": ")" + hash +
               R"("}, {"principal": "b", "secret": ")" + hash + "\"}");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("a", "shared")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("b", "shared")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.hash_verifications(), 2u);
  // Moving the boundary between principal and secret is another key.
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("a", "sharedx")).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.hash_verifications(), 3u);
}

TEST_F(BasicAuthenticatorTest, PlainSecretsAreNotHashedNorCounted) {
  WriteEntries(R"({"principal": "ops", "secret": "kitesurf"})");
  BasicAuthenticator authenticator(path_);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "kitesurf")).decision,
            Decision::kAuthenticated);
  EXPECT_EQ(authenticator.AuthenticateHttp(BasicHttp("ops", "wrong")).decision,
            Decision::kUnauthorized);
  EXPECT_EQ(authenticator.hash_verifications(), 0u);
}

TEST_F(BasicAuthenticatorTest, FullCacheIsEmptied) {
  WriteEntries(R"({"principal": "a", "secret": ")" + Sha512Crypt("one") +
               R"("}, {"principal": "b", "secret": ")" + Sha512Crypt("two") + "\"}");
  BasicAuthenticator authenticator(path_, 1);
  auto ok = [&](const char* principal, const char* secret) {
    return authenticator.AuthenticateHttp(BasicHttp(principal, secret)).decision ==
           Decision::kAuthenticated;
  };
  EXPECT_TRUE(ok("a", "one"));
  EXPECT_TRUE(ok("a", "one"));
  EXPECT_EQ(authenticator.hash_verifications(), 1u);
  EXPECT_TRUE(ok("b", "two"));  // full: "a" is dropped
  EXPECT_TRUE(ok("b", "two"));
  EXPECT_EQ(authenticator.hash_verifications(), 2u);
  EXPECT_TRUE(ok("a", "one"));
  EXPECT_EQ(authenticator.hash_verifications(), 3u);

  BasicAuthenticator uncached(path_, 0);
  EXPECT_EQ(uncached.AuthenticateHttp(BasicHttp("a", "one")).decision, Decision::kAuthenticated);
  EXPECT_EQ(uncached.AuthenticateHttp(BasicHttp("a", "one")).decision, Decision::kAuthenticated);
  EXPECT_EQ(uncached.hash_verifications(), 2u);
}

// The file.

TEST_F(BasicAuthenticatorTest, MissingFileIsRefusedNamingIt) {
  EXPECT_EQ(LoadError(), path_ + ": cannot open: No such file or directory");
}

TEST_F(BasicAuthenticatorTest, WorldReadableFileIsRefusedNamingIt) {
  Write(R"({"credentials": [{"principal": "ops", "secret": "kitesurf"}]})", 0644);
  EXPECT_EQ(LoadError(),
            path_ + ": readable or writable by others (mode 0644); chmod 0600 or 0640");
  Write(R"({"credentials": [{"principal": "ops", "secret": "kitesurf"}]})", 0602);
  EXPECT_NE(LoadError().find("by others (mode 0602)"), std::string::npos);
}

TEST_F(BasicAuthenticatorTest, GroupMayReadButNotWrite) {
  Write(R"({"credentials": [{"principal": "ops", "secret": "kitesurf"}]})", 0640);
  EXPECT_EQ(LoadError(), "");
  Write(R"({"credentials": [{"principal": "ops", "secret": "kitesurf"}]})", 0660);
  EXPECT_EQ(LoadError(), path_ + ": writable by group (mode 0660); chmod 0600 or 0640");
}

TEST_F(BasicAuthenticatorTest, DirectoryIsRefused) {
  path_ = dir_;
  ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
  EXPECT_EQ(LoadError(), dir_ + ": not a regular file");
}

TEST_F(BasicAuthenticatorTest, MalformedJsonIsRefusedWithoutQuotingIt) {
  Write(R"({"credentials": [{"principal": "ops", "secret": "hunter2" )");
  std::string error = LoadError();
  EXPECT_EQ(error.rfind(path_ + ": not valid JSON: ", 0), 0u) << error;
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  // JSON keys given twice are refused, not settled by whichever comes last.
  WriteEntries(R"({"principal": "ops", "principal": "dev", "secret": "x"})");
  EXPECT_EQ(LoadError().rfind(path_ + ": not valid JSON: ", 0), 0u);
  Write(R"([{"principal": "ops", "secret": "kitesurf"}])");
  EXPECT_EQ(LoadError(), path_ + ": not a JSON object");
  Write("");
  EXPECT_EQ(LoadError(), path_ + ": not a JSON object");
}

TEST_F(BasicAuthenticatorTest, WrongShapeIsRefusedNamingTheField) {
  Write(R"({"credentials": [{"principal": "ops", "secret": "x"}], "extra": 1})");
  EXPECT_EQ(LoadError(), path_ + ": extra: unknown field (expected only \"credentials\")");
  Write(R"({})");
  EXPECT_EQ(LoadError(), path_ + ": credentials: missing");
  Write(R"({"credentials": {"principal": "ops", "secret": "x"}})");
  EXPECT_EQ(LoadError(), path_ + ": credentials: must be a list");
  Write(R"({"credentials": []})");
  EXPECT_EQ(LoadError(), path_ + ": credentials: empty: nobody could authenticate");
  WriteEntries(R"({"principal": "ops", "secret": "x"}, "dev:y")");
  EXPECT_EQ(LoadError(), path_ + ": credentials[1]: must be an object");
  WriteEntries(R"({"principal": "ops", "secret": "x", "role": "admin"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].role: unknown field");
  WriteEntries(R"({"principal": 7, "secret": "x"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].principal: must be a string");
}

TEST_F(BasicAuthenticatorTest, MissingPrincipalIsRefused) {
  WriteEntries(R"({"principal": "ops", "secret": "x"}, {"secret": "y"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[1].principal: missing");
}

TEST_F(BasicAuthenticatorTest, EmptyPrincipalOrSecretIsRefused) {
  WriteEntries(R"({"principal": "", "secret": "x"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].principal: empty");
  WriteEntries(R"({"principal": "ops", "secret": ""})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].secret: empty");
  WriteEntries(R"({"principal": "ops"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].secret: missing");
}

TEST_F(BasicAuthenticatorTest, PrincipalWithColonOrControlCharacterIsRefused) {
  WriteEntries(R"({"principal": "ops:eu", "secret": "x"})");
  EXPECT_EQ(LoadError(),
            path_ + ": credentials[0].principal: contains ':', which HTTP Basic cannot carry");
  WriteEntries(R"({"principal": "ops\n", "secret": "x"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[0].principal: contains a control character");
}

TEST_F(BasicAuthenticatorTest, DuplicatePrincipalIsRefused) {
  WriteEntries(R"({"principal": "ops", "secret": "x"}, {"principal": "dev", "secret": "y"},
                  {"principal": "ops", "secret": "z"})");
  EXPECT_EQ(LoadError(), path_ + ": credentials[2].principal: duplicate of credentials[0]");
}

TEST_F(BasicAuthenticatorTest, UnknownHashSchemeIsRefused) {
  WriteEntries(
      R"({"principal": "ops", "secret": "x"},
         {"principal": "dev", "secret": "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"})");
  EXPECT_EQ(LoadError(), path_ +
                             ": credentials[1].secret: unknown hash scheme '$2b$' (known: "
                             "$argon2id$, $6$; a plain secret must not start with '$')");
  // A '$' secret that does not even look like a hash is not quoted.
  WriteEntries(R"({"principal": "ops", "secret": "$ecret!"})");
  std::string error = LoadError();
  EXPECT_NE(error.find("credentials[0].secret: starts with '$' but is not a known hash"),
            std::string::npos);
  EXPECT_EQ(error.find("ecret!"), std::string::npos);
}

TEST_F(BasicAuthenticatorTest, MalformedHashesAreRefused) {
  std::string sha = Sha512Crypt("kitesurf");
  std::string argon = Argon2id("kitesurf");
  for (const std::string& bad :
       {sha.substr(0, sha.size() - 1), sha + "x", std::string("$6$somesalt"),
        std::string("$6$rounds=10$somesalt$") + sha.substr(12),
        std::string("$6$somesalt$") + std::string(85, 'a') + "!"}) {
    WriteEntries(R"({"principal": "ops", "secret": ")" + bad + "\"}");
    EXPECT_NE(LoadError().find("credentials[0].secret: not a valid SHA-512 crypt hash"),
              std::string::npos)
        << bad;
  }
  for (const std::string& bad :
       // Cut within its hash: a shorter hash can still be valid base64 of a
       // valid length, so the cut leaves one character (no whole byte).
       {argon.substr(0, argon.rfind('$') + 2), std::string("$argon2id$"), argon + "$x",
        argon.substr(0, argon.size() - 1) + "!"}) {
    WriteEntries(R"({"principal": "ops", "secret": ")" + bad + "\"}");
    EXPECT_NE(LoadError().find("credentials[0].secret: not a valid argon2id hash"),
              std::string::npos)
        << bad;
  }
}

}  // namespace
}  // namespace keel::modules
