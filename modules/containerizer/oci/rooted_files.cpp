#include "modules/containerizer/oci/rooted_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace keel::modules::oci {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

std::string ErrnoText(const std::string& what) { return ErrnoText(what, errno); }

std::string ErrnoText(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

bool SplitRelative(const std::string& path, std::vector<std::string>* components) {
  components->clear();
  std::string current;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (current == "..") return false;
      if (!current.empty() && current != ".") components->push_back(current);
      current.clear();
    } else {
      current += path[i];
    }
  }
  return true;
}

int OpenInRoot(int root_fd, const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const std::string relative = path.empty() ? "." : path;
  for (;;) {
    long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    // The kernel asks for a retry when a rename raced the lookup.
    if (errno != EAGAIN && errno != EINTR) return -1;
  }
}

Result<Fd> MakeDirsInRoot(int root_fd, const std::string& path) {
  Fd whole(OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY));
  if (whole.valid()) return whole;
  if (errno != ENOENT) return Status::Error(ErrnoText(path));
  std::vector<std::string> parts;
  if (!SplitRelative(path, &parts)) return Status::Error(path + ": has a '..' component");
  std::string prefix;
  Fd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return Status::Error(ErrnoText("dup"));
  for (const std::string& part : parts) {
    prefix += (prefix.empty() ? "" : "/") + part;
    Fd next(OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY));
    if (!next.valid()) {
      if (errno != ENOENT) return Status::Error(ErrnoText(prefix));
      // `current` is the resolved parent: the new directory is made there.
      if (::mkdirat(current.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::Error(ErrnoText("mkdir " + prefix));
      }
      next = Fd(OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY));
      if (!next.valid()) return Status::Error(ErrnoText(prefix));
    }
    current = std::move(next);
  }
  return current;
}

namespace {

Status RemoveChildren(int dir_fd, dev_t device, const std::string& where);

Status RemoveEntry(int dir_fd, const std::string& name, dev_t device, const std::string& where) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(ErrnoText(where));
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != device) {
      return Status::Error(where + ": is a mount point; not removing what is mounted there");
    }
    Fd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) return Status::Error(ErrnoText(where));
    if (Status s = RemoveChildren(child.get(), device, where); !s.ok()) return s;
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::Error(ErrnoText("rmdir " + where));
    }
    return Status::Ok();
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::Error(ErrnoText("unlink " + where));
  }
  return Status::Ok();
}

Status RemoveChildren(int dir_fd, dev_t device, const std::string& where) {
  // fdopendir() takes the descriptor: hand it a copy.
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Status::Error(ErrnoText("dup"));
  DIR* dir = ::fdopendir(copy);
  if (dir == nullptr) {
    ::close(copy);
    return Status::Error(ErrnoText(where));
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  for (const std::string& name : names) {
    if (Status s = RemoveEntry(dir_fd, name, device, where + "/" + name); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status RemoveTreeAt(int dir_fd, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(ErrnoText(name));
  }
  return RemoveEntry(dir_fd, name, st.st_dev, name);
}

Status RemoveTree(const std::string& path) {
  std::string parent = ".", name = path;
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos) {
    parent = slash == 0 ? "/" : path.substr(0, slash);
    name = path.substr(slash + 1);
  }
  if (name.empty() || name == "." || name == "..") {
    return Status::Error("refusing to remove '" + path + "'");
  }
  Fd dir(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(ErrnoText(parent));
  }
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(ErrnoText(path));
  }
  return RemoveEntry(dir.get(), name, st.st_dev, path);
}

Status MakeDirs(const std::string& path, mode_t mode) {
  std::string prefix;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    prefix = path.substr(0, i);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return Status::Error(ErrnoText("mkdir " + prefix));
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::Error(ErrnoText(path));
  if (!S_ISDIR(st.st_mode)) return Status::Error(path + ": not a directory");
  return Status::Ok();
}

namespace {

Result<std::string> ReadAll(int fd, const std::string& path) {
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(ErrnoText("read " + path));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Status::Error(ErrnoText(path));
  return ReadAll(fd.get(), path);
}

Result<std::string> ReadFileInRoot(int root_fd, const std::string& path) {
  Fd fd(OpenInRoot(root_fd, path, O_RDONLY));
  if (!fd.valid()) return Status::Error(ErrnoText(path));
  return ReadAll(fd.get(), path);
}

Status WriteFileAtomically(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temp = path + ".tmp-" + RandomHex(4);
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return Status::Error(ErrnoText("create " + temp));
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status error = Status::Error(ErrnoText("write " + temp));
      ::unlink(temp.c_str());
      return error;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    Status error = Status::Error(ErrnoText("write " + temp));
    ::unlink(temp.c_str());
    return error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status error = Status::Error(ErrnoText("rename " + temp + " to " + path));
    ::unlink(temp.c_str());
    return error;
  }
  return Status::Ok();
}

namespace {

// Mount points in mountinfo escape space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const std::string digits = text.substr(i + 1, 3);
      if (digits.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::stoi(digits, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace

bool HasMountUnder(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    const std::string point = Unescape(mount_point);
    if (point == path || (point.size() > path.size() && point.compare(0, path.size(), path) == 0 &&
                          point[path.size()] == '/')) {
      return true;
    }
  }
  return false;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = ::getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return hex;
}

}  // namespace keel::modules::oci
