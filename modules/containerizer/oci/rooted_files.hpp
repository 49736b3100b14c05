// Files as the `oci` containerizer and its image store handle them: paths
// resolved inside a root as a chroot would see them, trees removed without
// following symlinks or crossing mounts, small files read and written.
//
// Threading: plain functions on descriptors and paths; callable from any
// thread. Everything here may block on the disk: the containerizer calls it
// on its worker thread, keelctl on its main thread.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::modules::oci {

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

// "what: strerror(errno)".
std::string ErrnoText(const std::string& what);
std::string ErrnoText(const std::string& what, int error);

// Splits a relative path into its components, dropping empty ones and ".";
// false when a component is "..".
bool SplitRelative(const std::string& path, std::vector<std::string>* components);

// Opens `path` (relative to the root `root_fd`, absolute or not) with
// openat2(RESOLVE_IN_ROOT): every symlink and ".." on the way is resolved as
// if `root_fd` were "/", so nothing outside it is ever reached. `flags` as for
// open(2) (O_CLOEXEC is added). Returns -1 with errno set on failure.
int OpenInRoot(int root_fd, const std::string& path, int flags, mode_t mode = 0);

// The directory `path` under `root_fd` (resolved as OpenInRoot does), made
// with mode 0755 component by component where missing. An O_PATH descriptor.
Result<Fd> MakeDirsInRoot(int root_fd, const std::string& path);

// Removes `name` in `dir_fd` and, if it is a directory, everything under it.
// Never follows a symlink and never descends into another file system (a
// mount point fails with EBUSY instead). A missing `name` is not an error.
Status RemoveTreeAt(int dir_fd, const std::string& name);
// RemoveTreeAt() of an absolute or relative path.
Status RemoveTree(const std::string& path);

// mkdir -p with `mode` for the directories it makes.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// The whole file; an error naming `path`.
Result<std::string> ReadFile(const std::string& path);
// Reads `path` under `root_fd` resolved inside the root (see OpenInRoot).
Result<std::string> ReadFileInRoot(int root_fd, const std::string& path);
// Writes `text` to `path` through a temporary file renamed over it.
Status WriteFileAtomically(const std::string& path, const std::string& text, mode_t mode = 0644);

// True when some mount point of this mount namespace is `path` or lies
// under it (from /proc/self/mountinfo).
bool HasMountUnder(const std::string& path);

// A random lower-case hex string of `bytes` bytes (for temporary names).
std::string RandomHex(size_t bytes);

}  // namespace keel::modules::oci
