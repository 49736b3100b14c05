#include "modules/authenticator/basic/credentials_file.hpp"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace keel::modules {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr off_t kMaxFileBytes = 4 << 20;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// The file's text, after checking who may read and change it. The checks run
// on the open descriptor, so the file checked is the file read.
Result<std::string> ReadPrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Error(path + ": cannot open: " + ErrnoText(errno));
  FdCloser closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Error(path + ": cannot stat: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return Status::Error(path + ": not a regular file");
  if ((st.st_mode & 0007) != 0) {
    return Status::Error(path + ": readable or writable by others (mode " + ModeText(st.st_mode) +
                         "); chmod 0600 or 0640");
  }
  if ((st.st_mode & 0020) != 0) {
    return Status::Error(path + ": writable by group (mode " + ModeText(st.st_mode) +
                         "); chmod 0600 or 0640");
  }
  if (st.st_size > kMaxFileBytes) return Status::Error(path + ": larger than 4 MiB");
  std::string text;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(path + ": cannot read: " + ErrnoText(errno));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > static_cast<size_t>(kMaxFileBytes)) {
      return Status::Error(path + ": larger than 4 MiB");
    }
  }
  return text;
}

// A field's error, "<path>: <field>: <what>".
Status FieldError(const std::string& path, const std::string& field, const std::string& what) {
  return Status::Error(path + ": " + field + ": " + what);
}

// The first field of `object` not in `known`, or "". Sorted, so that the
// same file always gets the same message.
std::string UnknownField(const Struct& object, std::initializer_list<std::string_view> known) {
  std::string first;
  for (const auto& [name, value] : object.fields()) {
    bool ok = false;
    for (auto k : known) ok = ok || name == k;
    if (!ok && (first.empty() || name < first)) first = name;
  }
  return first;
}

// Checks one entry's text field: present, a string, not empty.
Result<std::string> TextField(const std::string& path, const Struct& entry,
                              const std::string& field, const char* name) {
  auto it = entry.fields().find(name);
  if (it == entry.fields().end()) return FieldError(path, field, "missing");
  if (it->second.kind_case() != Value::kStringValue) {
    return FieldError(path, field, "must be a string");
  }
  if (it->second.string_value().empty()) return FieldError(path, field, "empty");
  return it->second.string_value();
}

}  // namespace

Result<CredentialMap> ReadCredentialsFile(const std::string& path) {
  auto text = ReadPrivateFile(path);
  if (!text.ok()) return text.status();

  Struct root;
  auto parsed = google::protobuf::util::JsonStringToMessage(*text, &root);
  if (!parsed.ok()) {
    // Only the first line: protobuf appends the text around the error,
    // which may be a secret.
    auto start = text->find_first_not_of(" \t\r\n");
    if (start == std::string::npos || (*text)[start] != '{') {
      return Status::Error(path + ": not a JSON object");
    }
    std::string why(parsed.message().data(), parsed.message().size());
    return Status::Error(path + ": not valid JSON: " + why.substr(0, why.find('\n')));
  }
  if (std::string unknown = UnknownField(root, {"credentials"}); !unknown.empty()) {
    return FieldError(path, unknown, "unknown field (expected only \"credentials\")");
  }
  auto list = root.fields().find("credentials");
  if (list == root.fields().end()) return FieldError(path, "credentials", "missing");
  if (list->second.kind_case() != Value::kListValue) {
    return FieldError(path, "credentials", "must be a list");
  }
  const auto& entries = list->second.list_value().values();
  if (entries.empty()) return FieldError(path, "credentials", "empty: nobody could authenticate");

  CredentialMap credentials;
  std::map<std::string, int, std::less<>> first_seen;  // principal -> index
  for (int i = 0; i < entries.size(); ++i) {
    std::string at = "credentials[" + std::to_string(i) + "]";
    if (entries[i].kind_case() != Value::kStructValue) {
      return FieldError(path, at, "must be an object");
    }
    const Struct& entry = entries[i].struct_value();
    if (std::string unknown = UnknownField(entry, {"principal", "secret"}); !unknown.empty()) {
      return FieldError(path, at + "." + unknown, "unknown field");
    }
    auto principal = TextField(path, entry, at + ".principal", "principal");
    if (!principal.ok()) return principal.status();
    // HTTP Basic splits user-id and password at the first ':'.
    if (principal->find(':') != std::string::npos) {
      return FieldError(path, at + ".principal", "contains ':', which HTTP Basic cannot carry");
    }
    // Principals end up in logs and ACLs; keep them one printable line.
    for (unsigned char c : *principal) {
      if (c < 0x20 || c == 0x7f) {
        return FieldError(path, at + ".principal", "contains a control character");
      }
    }
    if (auto seen = first_seen.find(*principal); seen != first_seen.end()) {
      return FieldError(path, at + ".principal",
                        "duplicate of credentials[" + std::to_string(seen->second) + "]");
    }
    first_seen.emplace(*principal, i);
    auto secret = TextField(path, entry, at + ".secret", "secret");
    if (!secret.ok()) return secret.status();
    auto stored = StoredSecret::Parse(std::move(secret).value());
    if (!stored.ok()) return FieldError(path, at + ".secret", stored.status().message());
    credentials.emplace(std::move(principal).value(), std::move(stored).value());
  }
  return credentials;
}

}  // namespace keel::modules
