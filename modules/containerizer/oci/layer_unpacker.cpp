#include "modules/containerizer/oci/layer_unpacker.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace keel::modules::oci {
namespace {

constexpr const char kWhiteoutPrefix[] = ".wh.";
constexpr const char kOpaqueMarker[] = ".wh..wh..opq";

// libarchive pulls the layer through this.
struct ReadContext {
  BlobReader* blob;
  char buffer[65536];
};

la_ssize_t ReadCallback(archive* reader, void* data, const void** out) {
  auto* context = static_cast<ReadContext*>(data);
  ssize_t n = context->blob->Read(context->buffer, sizeof(context->buffer));
  if (n < 0) {
    archive_set_error(reader, EIO, "%s", context->blob->error().message().c_str());
    return -1;
  }
  *out = context->buffer;
  return n;
}

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

// The entry's name as a path relative to the rootfs ("" for the root);
// false when it climbs out with "..".
bool Normalize(const std::string& name, std::string* path) {
  std::vector<std::string> parts;
  if (!SplitRelative(name, &parts)) return false;
  path->clear();
  for (const auto& part : parts) *path += (path->empty() ? "" : "/") + part;
  return true;
}

void SplitParent(const std::string& path, std::string* parent, std::string* base) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    parent->clear();
    *base = path;
  } else {
    *parent = path.substr(0, slash);
    *base = path.substr(slash + 1);
  }
}

// Owner, mode and times of `name` in `dir_fd`, as far as we may set them.
void SetMetadata(int dir_fd, const std::string& name, archive_entry* entry, bool is_symlink) {
  // Not root: the files stay ours.
  (void)::fchownat(dir_fd, name.c_str(), static_cast<uid_t>(archive_entry_uid(entry)),
                   static_cast<gid_t>(archive_entry_gid(entry)), AT_SYMLINK_NOFOLLOW);
  // After chown, which clears setuid and setgid bits.
  if (!is_symlink) (void)::fchmodat(dir_fd, name.c_str(), archive_entry_perm(entry) & 07777, 0);
  timespec times[2];
  times[0].tv_sec =
      archive_entry_atime_is_set(entry) ? archive_entry_atime(entry) : archive_entry_mtime(entry);
  times[0].tv_nsec = 0;
  times[1].tv_sec = archive_entry_mtime(entry);
  times[1].tv_nsec = archive_entry_mtime_nsec(entry);
  (void)::utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

}  // namespace

Result<LayerUnpacker> LayerUnpacker::Open(const std::string& rootfs) {
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Status::Error(ErrnoText(rootfs));
  return LayerUnpacker(std::move(root));
}

void LayerUnpacker::Remember(const std::string& path) {
  std::string prefix = path;
  while (!prefix.empty() && this_layer_.insert(prefix).second) {
    const size_t slash = prefix.rfind('/');
    prefix = slash == std::string::npos ? "" : prefix.substr(0, slash);
  }
}

Status LayerUnpacker::Apply(BlobReader& blob) {
  this_layer_.clear();
  std::unique_ptr<archive, ArchiveCloser> reader(archive_read_new());
  if (!reader) return Status::Error(blob.name() + ": cannot start libarchive");
  archive_read_support_format_tar(reader.get());
  auto context = std::make_unique<ReadContext>();
  context->blob = &blob;
  if (archive_read_open(reader.get(), context.get(), nullptr, ReadCallback, nullptr) !=
      ARCHIVE_OK) {
    return Status::Error(blob.name() +
                         ": is not a tar archive: " + archive_error_string(reader.get()));
  }
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_RETRY) continue;
    if (r < ARCHIVE_WARN) {
      const char* why = archive_error_string(reader.get());
      if (!blob.error().ok()) return blob.error();
      return Status::Error(blob.name() + ": is not a valid tar archive (" +
                           (why ? why : "unreadable header") + ")");
    }
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) return Status::Error(blob.name() + ": an entry has no name");
    std::string path;
    if (!Normalize(raw, &path)) {
      return Status::Error(blob.name() + ": entry '" + raw +
                           "' has a '..' component: its path escapes the rootfs");
    }
    if (Status s = ApplyEntry(reader.get(), entry, path); !s.ok()) {
      if (!blob.error().ok()) return blob.error();
      return Status::Error(blob.name() + ": entry '" + raw + "': " + s.message());
    }
  }
  return blob.Drain();
}

Status LayerUnpacker::ApplyEntry(archive* reader, archive_entry* entry, const std::string& path) {
  if (path.empty()) return Status::Ok();  // the root itself: "./"
  std::string parent, base;
  SplitParent(path, &parent, &base);
  if (base == kOpaqueMarker) return Opaque(parent);
  if (base.rfind(kWhiteoutPrefix, 0) == 0) {
    const std::string hidden = base.substr(sizeof(kWhiteoutPrefix) - 1);
    if (hidden.empty()) return Status::Error("a whiteout that names nothing");
    return Whiteout(parent.empty() ? hidden : parent + "/" + hidden);
  }

  Result<Fd> dir = MakeDirsInRoot(root_.get(), parent);
  if (!dir.ok()) return Status::Error("cannot make its directory: " + dir.status().message());
  const int dir_fd = dir->get();
  const char* name = base.c_str();
  const mode_t type = archive_entry_filetype(entry);
  const char* hardlink = archive_entry_hardlink(entry);

  struct stat existing {};
  const bool exists = ::fstatat(dir_fd, name, &existing, AT_SYMLINK_NOFOLLOW) == 0;
  if (type == AE_IFDIR && hardlink == nullptr) {
    if (exists && !S_ISDIR(existing.st_mode) && ::unlinkat(dir_fd, name, 0) != 0) {
      return Status::Error(ErrnoText("cannot replace what is there"));
    }
    if (!exists || !S_ISDIR(existing.st_mode)) {
      if (::mkdirat(dir_fd, name, 0700) != 0) return Status::Error(ErrnoText("mkdir"));
    }
    SetMetadata(dir_fd, base, entry, false);
    Remember(path);
    return Status::Ok();
  }
  if (exists) {
    if (Status s = RemoveTreeAt(dir_fd, base); !s.ok()) {
      return Status::Error("cannot replace what is there: " + s.message());
    }
  }
  Remember(path);

  if (hardlink != nullptr) {
    std::string target;
    if (!Normalize(hardlink, &target) || target.empty()) {
      return Status::Error(std::string("hard link to '") + hardlink + "' escapes the rootfs");
    }
    std::string target_parent, target_base;
    SplitParent(target, &target_parent, &target_base);
    Fd target_dir(OpenInRoot(root_.get(), target_parent, O_PATH | O_DIRECTORY));
    if (!target_dir.valid() ||
        ::linkat(target_dir.get(), target_base.c_str(), dir_fd, name, 0) != 0) {
      return Status::Error(ErrnoText("cannot hard-link to '" + target + "'"));
    }
    return Status::Ok();
  }

  switch (type) {
    case AE_IFREG: {
      Fd file(::openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!file.valid()) return Status::Error(ErrnoText("create"));
      for (;;) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r = archive_read_data_block(reader, &block, &size, &offset);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
          const char* why = archive_error_string(reader);
          return Status::Error(std::string("cannot read its data: ") + (why ? why : "?"));
        }
        const char* bytes = static_cast<const char*>(block);
        for (size_t done = 0; done < size;) {
          ssize_t n = ::pwrite(file.get(), bytes + done, size - done,
                               static_cast<off_t>(offset) + static_cast<off_t>(done));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0) return Status::Error(ErrnoText("write"));
          done += static_cast<size_t>(n);
        }
      }
      // A sparse file's hole at the end.
      if (::ftruncate(file.get(), static_cast<off_t>(archive_entry_size(entry))) != 0) {
        return Status::Error(ErrnoText("truncate"));
      }
      archive_entry_xattr_reset(entry);
      const char* xattr_name = nullptr;
      const void* value = nullptr;
      size_t value_size = 0;
      while (archive_entry_xattr_next(entry, &xattr_name, &value, &value_size) == ARCHIVE_OK) {
        (void)::fsetxattr(file.get(), xattr_name, value, value_size, 0);
      }
      break;
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(entry);
      if (target == nullptr) return Status::Error("a symlink without a target");
      if (::symlinkat(target, dir_fd, name) != 0) return Status::Error(ErrnoText("symlink"));
      SetMetadata(dir_fd, base, entry, true);
      return Status::Ok();
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      const dev_t device = makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
      if (::mknodat(dir_fd, name, type | 0600, type == AE_IFIFO ? 0 : device) != 0) {
        // Only root makes device nodes; the image works without most.
        if (errno == EPERM) return Status::Ok();
        return Status::Error(ErrnoText("mknod"));
      }
      break;
    }
    default:
      return Status::Ok();  // sockets: nothing to make
  }
  SetMetadata(dir_fd, base, entry, false);
  return Status::Ok();
}

Status LayerUnpacker::Whiteout(const std::string& path) {
  if (this_layer_.count(path)) return Status::Ok();
  std::string parent, base;
  SplitParent(path, &parent, &base);
  Fd dir(OpenInRoot(root_.get(), parent, O_PATH | O_DIRECTORY));
  if (!dir.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();  // nothing below to hide
    return Status::Error(ErrnoText("whiteout of '" + path + "'"));
  }
  if (Status s = RemoveTreeAt(dir.get(), base); !s.ok()) {
    return Status::Error("whiteout of '" + path + "': " + s.message());
  }
  return Status::Ok();
}

Status LayerUnpacker::Opaque(const std::string& dir) {
  Fd fd(OpenInRoot(root_.get(), dir, O_RDONLY | O_DIRECTORY));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::Ok();
    return Status::Error(ErrnoText("opaque whiteout of '" + dir + "'"));
  }
  Remember(dir);
  return KeepOnlyThisLayer(fd.get(), dir);
}

Status LayerUnpacker::KeepOnlyThisLayer(int dir_fd, const std::string& dir) {
  int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Status::Error(ErrnoText("dup"));
  DIR* listing = ::fdopendir(copy);
  if (listing == nullptr) {
    ::close(copy);
    return Status::Error(ErrnoText(dir));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(listing)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(listing);
  for (const std::string& name : names) {
    const std::string path = dir.empty() ? name : dir + "/" + name;
    if (!this_layer_.count(path)) {
      if (Status s = RemoveTreeAt(dir_fd, name); !s.ok()) return s;
      continue;
    }
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      Fd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child.valid()) return Status::Error(ErrnoText(path));
      if (Status s = KeepOnlyThisLayer(child.get(), path); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace keel::modules::oci
