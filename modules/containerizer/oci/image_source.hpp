// What an image to import is made of, read from an OCI image layout
// directory or from a `docker save` tarball (unpacked first with
// ExtractTarball()): its config and its layers, in order, each with the
// digests the image claims for it, which the import then checks.
//
// OCI layout: oci-layout, index.json -> manifest (through nested indexes,
// choosing linux on this machine's architecture, or the manifest whose
// org.opencontainers.image.ref.name is the tag being imported) -> config and
// layers under blobs/sha256/. The manifest, config and every index are
// checked against their digests and sizes as they are read.
//
// docker save: manifest.json ([{Config, RepoTags, Layers}]; the entry whose
// RepoTags has the name being imported, or the only one), the config, and
// each layer checked against the config's rootfs.diff_ids. Newer docker
// writes the blobs of an OCI layout with a manifest.json beside it; both
// forms are read.
//
// Threading: one thread at a time; it blocks on the disk.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keel/status.hpp"
#include "modules/containerizer/oci/image_reference.hpp"

namespace keel::modules::oci {

struct LayerPlan {
  std::string path;                    // the file
  std::string label;                   // for errors: "layer 2 of 3 (blobs/sha256/ab12...)"
  std::optional<std::string> digest;   // of the stored (maybe compressed) bytes
  std::optional<uint64_t> size;        // of the stored bytes
  std::optional<std::string> diff_id;  // of the uncompressed tar
};

struct ImagePlan {
  std::string format;  // "oci" or "docker"
  std::string config_json;
  std::string config_digest;  // sha256 of config_json
  std::vector<LayerPlan> layers;
};

// `dir` holds oci-layout and index.json. `wanted` picks among several
// manifests by their ref.name annotation.
Result<ImagePlan> ReadOciLayout(const std::string& dir, const ImageReference& wanted);
// `dir` is an unpacked `docker save`: manifest.json, or an OCI layout.
Result<ImagePlan> ReadDockerSave(const std::string& dir, const ImageReference& wanted);

// Unpacks the tarball `tarball` (plain or gzip) into the existing directory
// `dest`: directories and regular files; symlinks and hard links between its
// files (as `docker save` writes for a layer it holds twice) become hard
// links. A name climbing out with "..", a link leading out of it or to
// nothing, or a truncated or corrupt tarball is an error naming the entry.
Status ExtractTarball(const std::string& tarball, const std::string& dest);

}  // namespace keel::modules::oci
