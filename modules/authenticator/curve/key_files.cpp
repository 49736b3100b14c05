#include "modules/authenticator/curve/key_files.hpp"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <vector>

namespace keel::modules {

namespace {

// No key file or allow-list comes near this; a bigger file is a mistake.
constexpr size_t kMaxFileBytes = 64u << 20;

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Reads a whole regular file, refusing it when its mode has a bit of
// `forbidden`. The mode is read from the open file, so the file checked is
// the file read.
Result<std::string> ReadGuarded(const std::string& path, mode_t forbidden, const std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error(path + ": cannot open: " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::Error(path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Status::Error(path + ": not a regular file");
  if ((st.st_mode & forbidden) != 0) {
    return Status::Error(path + ": mode " + Octal(st.st_mode) + " " + why);
  }
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(path + ": cannot read: " + std::strerror(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxFileBytes) return Status::Error(path + ": larger than 64 MiB");
  }
  return text;
}

constexpr const char* kNotAKey = "not a CurveZMQ key (40 Z85 characters)";

std::string Trim(std::string_view text) {
  const char* space = " \t\r\n\f\v";
  size_t begin = text.find_first_not_of(space);
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(space);
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// A quoted excerpt of a word for an error message, cut if long.
std::string Quote(const std::string& word) {
  return "'" + (word.size() > 48 ? word.substr(0, 48) + "..." : word) + "'";
}

bool IsPrincipal(const std::string& word) {
  for (unsigned char c : word) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return !word.empty();
}

}  // namespace

bool IsZ85Key(std::string_view text) {
  if (text.size() != 40) return false;
  std::string copy(text);  // zmq_z85_decode wants a terminated string
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, copy.c_str()) != nullptr;
}

std::string DefaultPrincipal(const std::string& key) { return "agent-" + key.substr(0, 8); }

Result<CurveKeyPair> ReadKeyPairFile(const std::string& path) {
  auto text =
      ReadGuarded(path, 0077, "lets group or others read or write this secret key; chmod 600 it");
  if (!text.ok()) return text.status();
  google::protobuf::Struct json;
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, &json);
  if (!parsed.ok()) {
    return Status::Error(path + ": not a JSON object: " + std::string(parsed.message()));
  }
  CurveKeyPair pair;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"public_key", &pair.public_key},
                           {"secret_key", &pair.secret_key}}) {
    auto field = json.fields().find(name);
    if (field == json.fields().end()) {
      return Status::Error(path + ": field '" + name + "': missing");
    }
    if (field->second.kind_case() != google::protobuf::Value::kStringValue) {
      return Status::Error(path + ": field '" + name + "': must be a string");
    }
    *out = field->second.string_value();
    if (!IsZ85Key(*out)) return Status::Error(path + ": field '" + name + "': " + kNotAKey);
  }
  char derived[41];
  if (zmq_curve_public(derived, pair.secret_key.c_str()) != 0 || pair.public_key != derived) {
    return Status::Error(path +
                         ": field 'public_key': is not the public half of field 'secret_key'");
  }
  return pair;
}

Result<std::string> ReadPublicKeyFile(const std::string& path) {
  auto text = ReadGuarded(path, 0022, "lets group or others write it; chmod go-w it");
  if (!text.ok()) return text.status();
  std::string key = Trim(*text);
  if (!IsZ85Key(key)) return Status::Error(path + ": " + kNotAKey);
  return key;
}

Result<std::map<std::string, std::string>> ReadAllowedKeysFile(const std::string& path) {
  auto text = ReadGuarded(path, 0022, "lets group or others write it; chmod go-w it");
  if (!text.ok()) return text.status();
  std::map<std::string, std::string> allowed;
  std::map<std::string, int> line_of;
  std::istringstream in(*text);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::vector<std::string> words = Words(line);
    // Everything from a word starting with '#' on is a comment.
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i][0] == '#') {
        words.resize(i);
        break;
      }
    }
    if (words.empty()) continue;
    if (!IsZ85Key(words[0])) return Status::Error(where + Quote(words[0]) + " is " + kNotAKey);
    if (words.size() > 2) {
      return Status::Error(where + "expected '<public key> [principal]', found " +
                           std::to_string(words.size()) + " words");
    }
    const std::string& key = words[0];
    std::string principal = words.size() == 2 ? words[1] : DefaultPrincipal(key);
    if (!IsPrincipal(principal)) {
      return Status::Error(where + "principal " + Quote(principal) +
                           " must be printable ASCII without spaces");
    }
    if (auto seen = line_of.find(key); seen != line_of.end()) {
      return Status::Error(where + "key " + key + " is already listed on line " +
                           std::to_string(seen->second));
    }
    line_of.emplace(key, number);
    allowed.emplace(key, std::move(principal));
  }
  return allowed;
}

}  // namespace keel::modules
