// ImageStore: the container images an agent can run, unpacked on its disk.
//
// Layout, under the `oci` module's work dir (<agent work_dir>/modules/oci):
//
//   images/<name>/<tag>/rootfs/       the layers applied in order
//   images/<name>/<tag>/config.json   the image config, as the image has it
//   images/<name>/<tag>/image.json    what the store knows: name, tag, id
//                                     (the config's digest), format, source,
//                                     layers, import time
//   images/.tmp/<random>/             imports under way (and their locks)
//   containers/<id>/image             the image dir a running container uses
//
// <name> is the image name with '/' and ':' written %2F and %3A
// ("library/busybox" and "busybox" are both "busybox", see
// image_reference.hpp).
//
// An import unpacks into images/.tmp/ and renames the finished image into
// place at the end: a failure (corrupt or truncated tarball, a digest that
// does not match, a missing layer, a path escaping the rootfs) leaves the
// store as it was, with an error naming the file and what is wrong.
// Imports hold an flock on their temporary dir; one whose process died is
// removed by the next import. Replacing (import with `replace`) or removing
// an image a container uses is refused.
//
// Threading: an ImageStore is used by one thread at a time; several
// processes (keelctl, the agent) may use one store at once. Import() and
// Remove() block on the disk for as long as unpacking or removing takes;
// Find() reads two small files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keel/status.hpp"
#include "modules/containerizer/oci/image_reference.hpp"

namespace keel::modules::oci {

// What the image says about the process to run (the config's "config").
struct ImageConfig {
  std::vector<std::string> env;  // "NAME=value"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
};

// `what` names the config in errors.
Result<ImageConfig> ParseImageConfig(const std::string& json, const std::string& what);

struct StoredImage {
  ImageReference reference;
  std::string dir;       // images/<name>/<tag>
  std::string rootfs;    // dir/rootfs
  std::string id;        // "sha256:..." of the config
  std::string format;    // "oci" or "docker"
  std::string source;    // the path imported from
  std::string imported;  // when, ISO 8601 UTC
  uint64_t layers = 0;
  ImageConfig config;
};

class ImageStore {
 public:
  // `module_dir` is the `oci` module's work dir.
  explicit ImageStore(std::string module_dir);
  // The module's work dir of an agent whose work_dir is `agent_work_dir`.
  static std::string ModuleDirOf(const std::string& agent_work_dir);

  const std::string& images_dir() const { return images_dir_; }
  const std::string& containers_dir() const { return containers_dir_; }

  // Imports an OCI layout directory, or a `docker save` tarball (plain or
  // gzip; its inside may be an OCI layout), as `reference`. An existing
  // image of that name and tag is an error unless `replace`.
  Result<StoredImage> Import(const std::string& source, const ImageReference& reference,
                             bool replace);
  // nullopt when the store has no such image; an error when it has a
  // broken one.
  Result<std::optional<StoredImage>> Find(const ImageReference& reference) const;
  // Every image, by name and tag. Broken entries are skipped.
  Result<std::vector<StoredImage>> List() const;
  // False when there was no such image.
  Result<bool> Remove(const ImageReference& reference);

  // The ids of containers (containers/<id>/image) that use the image in `dir`.
  std::vector<std::string> UsersOf(const std::string& dir) const;

 private:
  std::string DirOf(const ImageReference& reference) const;
  Result<StoredImage> Load(const std::string& dir) const;
  Status Unpack(const std::string& source, const ImageReference& reference, const std::string& work,
                const std::string& image_dir);
  void RemoveStaleImports() const;

  std::string module_dir_;
  std::string images_dir_;
  std::string containers_dir_;
};

}  // namespace keel::modules::oci
