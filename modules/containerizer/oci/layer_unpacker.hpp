// LayerUnpacker: applies image layers (tar streams), in order, to a rootfs.
//
// Each entry is written as a chroot into the rootfs would see it: every
// directory on the way is resolved inside the rootfs (openat2 with
// RESOLVE_IN_ROOT), so a symlink of the image, absolute or climbing with
// "..", leads to a place inside the rootfs and never out of it; the entry's
// last component is never followed (an existing entry there is replaced).
// An entry whose own name, or a hard link's target, climbs out with ".." is
// refused with an error naming the layer and the entry.
//
// Whiteouts as the OCI image spec has them: `.wh.NAME` removes NAME of the
// layers below, `.wh..wh..opq` empties its directory of what the layers
// below put there; entries of the same layer are never hidden by its own
// whiteouts. Ownership, modes (setuid included), times, device nodes and
// file xattrs are kept where the process may set them (root: all).
//
// Threading: one thread at a time; it blocks on the disk.
#pragma once

#include <set>
#include <string>

#include "keel/status.hpp"
#include "modules/containerizer/oci/blob_reader.hpp"
#include "modules/containerizer/oci/rooted_files.hpp"

struct archive;
struct archive_entry;

namespace keel::modules::oci {

class LayerUnpacker {
 public:
  // `rootfs` must be an existing directory.
  static Result<LayerUnpacker> Open(const std::string& rootfs);

  // Reads one layer's tar stream from `blob` to its end and applies it.
  Status Apply(BlobReader& blob);

 private:
  explicit LayerUnpacker(Fd root) : root_(std::move(root)) {}
  Status ApplyEntry(archive* reader, archive_entry* entry, const std::string& path);
  Status Whiteout(const std::string& path);
  Status Opaque(const std::string& dir);
  Status KeepOnlyThisLayer(int dir_fd, const std::string& dir);
  void Remember(const std::string& path);

  Fd root_;
  std::set<std::string> this_layer_;  // paths written by the current layer, with their parents
};

}  // namespace keel::modules::oci
