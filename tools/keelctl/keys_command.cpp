#include "tools/keelctl/keys_command.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace keel::keelctl {

namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() > suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Creates `path` with exactly `mode` and writes `text`. O_EXCL: an existing
// file (or a symlink planted where the file goes) is never written through;
// with `force` an existing file is first removed.
bool WriteNew(const std::string& path, const std::string& text, mode_t mode, bool force) {
  if (force && ::unlink(path.c_str()) != 0 && errno != ENOENT) {
    std::cerr << "keelctl: cannot remove " << path << ": " << std::strerror(errno) << "\n";
    return false;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    std::cerr << "keelctl: cannot create " << path << ": " << std::strerror(errno)
              << (errno == EEXIST ? " (use --force to replace it)" : "") << "\n";
    return false;
  }
  // The umask may have taken bits off `mode`; it must be exact.
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int error = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    std::cerr << "keelctl: cannot write " << path << ": " << std::strerror(error) << "\n";
    ::unlink(path.c_str());  // no half-written key left behind
  }
  return ok;
}

}  // namespace

int Keys(const std::map<std::string, std::string>& flags, const std::vector<std::string>& words) {
  if (words.size() != 1 || words[0] != "generate") {
    std::cerr << "keelctl: usage: keelctl keys generate --output=PATH [--force]\n";
    return 2;
  }
  auto output = flags.find("output");
  if (output == flags.end() || output->second.empty()) {
    std::cerr << "keelctl: keys generate needs --output=PATH (writes PATH.key and PATH.pub)\n";
    return 2;
  }
  auto force_flag = flags.find("force");
  const bool force = force_flag != flags.end() && force_flag->second == "true";
  std::string base = output->second;
  if (EndsWith(base, ".key") || EndsWith(base, ".pub")) base.resize(base.size() - 4);
  const std::string key_path = base + ".key", pub_path = base + ".pub";

  // Neither file is touched if either exists: no pair is ever half replaced.
  struct stat st {};
  for (const auto& path : {key_path, pub_path}) {
    if (!force && ::lstat(path.c_str(), &st) == 0) {
      std::cerr << "keelctl: " << path << " exists; use --force to replace it\n";
      return 1;
    }
  }
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    std::cerr << "keelctl: cannot make a key pair: " << zmq_strerror(zmq_errno())
              << " (is libzmq built with CURVE?)\n";
    return 1;
  }
  // Z85 has neither '"' nor '\\': the keys need no JSON escaping.
  const std::string pair =
      std::string(R"({"public_key":")") + public_key + R"(","secret_key":")" + secret_key + "\"}\n";
  std::memset(secret_key, 0, sizeof(secret_key));
  if (!WriteNew(key_path, pair, 0600, force)) return 1;
  if (!WriteNew(pub_path, std::string(public_key) + "\n", 0644, force)) {
    ::unlink(key_path.c_str());
    return 1;
  }
  std::cerr << "keelctl: wrote " << key_path << " (secret, 0600) and " << pub_path << "\n";
  std::cout << public_key << "\n";
  return 0;
}

}  // namespace keel::keelctl
