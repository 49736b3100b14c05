// Test images built at test time: a busybox rootfs from Debian's
// busybox-static (/bin/busybox), packed as layer tarballs with libarchive and
// written as an OCI image layout or a `docker save` tarball.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "modules/containerizer/oci/blob_reader.hpp"

namespace keel::modules::oci::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void WriteAll(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A temporary directory, removed (recursively) at the end.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/keel-oci-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Builds a tar stream in memory, entry by entry, names as given (so tests can
// write names no honest image has).
class TarBuilder {
 public:
  explicit TarBuilder(bool gzip = false) : archive_(archive_write_new()) {
    archive_write_set_format_pax_restricted(archive_);
    if (gzip) {
      archive_write_add_filter_gzip(archive_);
      archive_write_set_bytes_in_last_block(archive_, 1);  // no zeros after the gzip stream
    }
    archive_write_open(archive_, this, nullptr, &TarBuilder::Write, nullptr);
  }
  ~TarBuilder() {
    if (archive_) archive_write_free(archive_);
  }
  TarBuilder& Dir(const std::string& name, int mode = 0755) {
    return Add(name, AE_IFDIR, mode, "", "", "");
  }
  TarBuilder& File(const std::string& name, const std::string& content, int mode = 0644) {
    return Add(name, AE_IFREG, mode, content, "", "");
  }
  TarBuilder& Symlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFLNK, 0777, "", target, "");
  }
  TarBuilder& Hardlink(const std::string& name, const std::string& target) {
    return Add(name, AE_IFREG, 0644, "", "", target);
  }
  // The finished tarball.
  std::string Finish() {
    archive_write_close(archive_);
    archive_write_free(archive_);
    archive_ = nullptr;
    return data_;
  }

 private:
  static la_ssize_t Write(archive*, void* self, const void* buffer, size_t size) {
    static_cast<TarBuilder*>(self)->data_.append(static_cast<const char*>(buffer), size);
    return static_cast<la_ssize_t>(size);
  }
  TarBuilder& Add(const std::string& name, unsigned type, int mode, const std::string& content,
                  const std::string& symlink, const std::string& hardlink) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, static_cast<mode_t>(mode));
    archive_entry_set_mtime(e, 1700000000, 0);
    if (!symlink.empty()) archive_entry_set_symlink(e, symlink.c_str());
    if (!hardlink.empty()) archive_entry_set_hardlink(e, hardlink.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_write_header(archive_, e);
    if (!content.empty()) archive_write_data(archive_, content.data(), content.size());
    archive_entry_free(e);
    return *this;
  }

  archive* archive_;
  std::string data_;
};

inline std::vector<std::string> BusyboxApplets() {
  std::vector<std::string> applets;
  FILE* p = ::popen("/bin/busybox --list", "r");
  if (p == nullptr) return applets;
  char line[256];
  while (std::fgets(line, sizeof(line), p)) {
    std::string name(line);
    while (!name.empty() && (name.back() == '\n' || name.back() == '\r')) name.pop_back();
    if (!name.empty() && name != "busybox") applets.push_back(name);
  }
  ::pclose(p);
  return applets;
}

inline bool HaveBusybox() { return ::access("/bin/busybox", X_OK) == 0; }

// The busybox root filesystem as one layer: bin/busybox, a symlink in bin/
// for every applet, etc/ with os-release, passwd and group.
inline std::string BusyboxLayer(bool gzip) {
  TarBuilder tar(gzip);
  tar.Dir("bin").Dir("etc").Dir("tmp", 01777).Dir("root", 0700);
  tar.File("bin/busybox", ReadAll("/bin/busybox"), 0755);
  for (const std::string& applet : BusyboxApplets()) tar.Symlink("bin/" + applet, "busybox");
  tar.File("etc/os-release", "NAME=\"Keel test busybox\"\nID=keel-busybox\n");
  tar.File("etc/passwd",
           "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  tar.File("etc/group", "root:x:0:\nnogroup:x:65534:\n");
  return tar.Finish();
}

inline std::string BusyboxConfig(const std::vector<std::string>& diff_ids,
                                 const std::string& extra_config = "") {
  std::string ids;
  for (const auto& d : diff_ids) ids += (ids.empty() ? "\"" : ",\"") + d + "\"";
  return "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/sbin:/"
         "usr/bin:/sbin:/bin\",\"IMAGE_VAR=from-image\"],\"Cmd\":[\"sh\"]" +
         extra_config + "},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + ids + "]}}";
}

// Uncompressed digest of a (maybe gzip) layer, for diff_ids.
inline std::string DiffId(const std::string& layer, const std::string& scratch_dir) {
  const std::string path = scratch_dir + "/diffid-" + std::to_string(::getpid());
  WriteAll(path, layer);
  auto reader = BlobReader::Open(path, path);
  std::string digest;
  if (reader.ok() && (*reader)->Drain().ok()) digest = (*reader)->uncompressed_digest();
  ::unlink(path.c_str());
  return digest;
}

struct Blob {
  std::string media_type;
  std::string data;
};

inline std::string Descriptor(const std::string& media_type, const std::string& data,
                              const std::string& extra = "") {
  return "{\"mediaType\":\"" + media_type + "\",\"digest\":\"" + Sha256Digest(data) +
         "\",\"size\":" + std::to_string(data.size()) + extra + "}";
}

inline void WriteBlob(const std::string& layout, const std::string& data) {
  WriteAll(layout + "/blobs/sha256/" + Sha256Digest(data).substr(7), data);
}

// An OCI image layout in `dir` with these layers (tar or tar+gzip) and config.
inline void WriteOciLayout(const std::string& dir, const std::vector<Blob>& layers,
                           const std::string& config, const std::string& ref_name = "latest") {
  WriteAll(dir + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  std::string layer_list;
  for (const Blob& layer : layers) {
    WriteBlob(dir, layer.data);
    layer_list += (layer_list.empty() ? "" : ",") + Descriptor(layer.media_type, layer.data);
  }
  WriteBlob(dir, config);
  const std::string manifest =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
      "\"config\":" +
      Descriptor("application/vnd.oci.image.config.v1+json", config) + ",\"layers\":[" +
      layer_list + "]}";
  WriteBlob(dir, manifest);
  WriteAll(dir + "/index.json",
           "{\"schemaVersion\":2,\"manifests\":[" +
               Descriptor("application/vnd.oci.image.manifest.v1+json", manifest,
                          ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"" + ref_name +
                              "\"},\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}") +
               "]}");
}

// A `docker save` tarball (the classic layout: manifest.json, <id>.json,
// <layer>/layer.tar) of one image tagged `repo_tag`.
inline std::string DockerSaveTarball(const std::vector<std::string>& layers,
                                     const std::string& config, const std::string& repo_tag) {
  TarBuilder tar;
  const std::string config_name = Sha256Digest(config).substr(7) + ".json";
  tar.File(config_name, config);
  std::string names;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string dir = Sha256Digest(layers[i] + std::to_string(i)).substr(7);
    tar.Dir(dir).File(dir + "/VERSION", "1.0").File(dir + "/layer.tar", layers[i]);
    names += (names.empty() ? "\"" : ",\"") + dir + "/layer.tar\"";
  }
  tar.File("manifest.json", "[{\"Config\":\"" + config_name + "\",\"RepoTags\":[\"" + repo_tag +
                                "\"],\"Layers\":[" + names + "]}]");
  return tar.Finish();
}

// The busybox image as a docker save tarball at `path`, tagged `repo_tag`.
inline void WriteBusyboxDockerSave(const std::string& path, const std::string& repo_tag,
                                   const std::string& scratch_dir) {
  const std::string layer = BusyboxLayer(false);
  const std::string config = BusyboxConfig({DiffId(layer, scratch_dir)});
  WriteAll(path, DockerSaveTarball({layer}, config, repo_tag));
}

// The busybox image as an OCI layout in `dir` (gzip layer).
inline void WriteBusyboxOciLayout(const std::string& dir, const std::string& scratch_dir,
                                  const std::string& extra_config = "") {
  const std::string layer = BusyboxLayer(true);
  const std::string config = BusyboxConfig({DiffId(layer, scratch_dir)}, extra_config);
  WriteOciLayout(dir, {{"application/vnd.oci.image.layer.v1.tar+gzip", layer}}, config);
}

}  // namespace keel::modules::oci::testing
