#include "modules/containerizer/oci/image_source.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "modules/containerizer/oci/blob_reader.hpp"
#include "modules/containerizer/oci/rooted_files.hpp"
#include "modules/containerizer/oci/json.hpp"

namespace keel::modules::oci {
namespace {

// Manifests, configs and indexes are small; anything bigger is not one.
constexpr uint64_t kMaxJsonBlob = 16 << 20;

const char* HostArchitecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv)
  return "riscv64";
#else
  return "unknown";
#endif
}

bool IsIndexType(const std::string& media_type) {
  return media_type == "application/vnd.oci.image.index.v1+json" ||
         media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

std::string Short(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(0, 19) + "..." : digest;
}

std::string BlobPath(const std::string& dir, const std::string& digest) {
  return dir + "/blobs/sha256/" + digest.substr(7);
}

std::optional<uint64_t> SizeOf(const JsonValue& descriptor) {
  const JsonValue* size = Field(descriptor, "size");
  if (size == nullptr || size->kind_case() != JsonValue::kNumberValue || size->number_value() < 0) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(size->number_value());
}

// A descriptor's digest, checked to be one we can read.
Result<std::string> DigestOf(const JsonValue& descriptor, const std::string& what) {
  const std::string digest = StringField(descriptor, "digest");
  if (digest.empty()) return Status::Error(what + " has no digest");
  if (!ValidSha256Digest(digest)) {
    return Status::Error(what + " has digest '" + digest +
                         "': only sha256 digests (64 lower-case hex digits) are supported");
  }
  return digest;
}

// Reads a JSON blob and checks it against its descriptor.
Result<std::string> ReadJsonBlob(const std::string& dir, const JsonValue& descriptor,
                                 const std::string& what) {
  Result<std::string> digest = DigestOf(descriptor, what);
  if (!digest.ok()) return digest.status();
  const std::string path = BlobPath(dir, *digest);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(what + " " + path + " is missing: " + ErrnoText("stat"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxJsonBlob) {
    return Status::Error(what + " " + path + " is too big for JSON");
  }
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return Status::Error(what + ": " + text.status().message());
  const std::string actual = Sha256Digest(*text);
  if (actual != *digest) {
    return Status::Error(what + " " + path + " has digest " + actual + ", not " + *digest +
                         " as its descriptor says: the blob is corrupt");
  }
  if (auto size = SizeOf(descriptor); size && *size != text->size()) {
    return Status::Error(what + " " + path + " is " + std::to_string(text->size()) +
                         " bytes, not " + std::to_string(*size) + " as its descriptor says");
  }
  return text;
}

bool PlatformMatches(const JsonValue& descriptor) {
  const JsonValue* platform = Field(descriptor, "platform");
  if (platform == nullptr) return true;
  const std::string os = StringField(*platform, "os", "linux");
  const std::string arch = StringField(*platform, "architecture", HostArchitecture());
  return os == "linux" && arch == HostArchitecture();
}

// The manifest descriptor to use among an index's, preferring those named
// by `tag` and those for this machine.
Result<const JsonValue*> ChooseManifest(const JsonValue& index, const std::string& where,
                                        const std::string& tag) {
  const JsonValue* manifests = Field(index, "manifests");
  if (manifests == nullptr || manifests->kind_case() != JsonValue::kListValue ||
      manifests->list_value().values().empty()) {
    return Status::Error(where + " lists no manifests");
  }
  std::vector<const JsonValue*> candidates;
  for (const auto& m : manifests->list_value().values()) candidates.push_back(&m);
  auto keep = [&](auto predicate) {
    std::vector<const JsonValue*> kept;
    for (const JsonValue* c : candidates) {
      if (predicate(*c)) kept.push_back(c);
    }
    if (!kept.empty()) candidates = kept;
  };
  keep([&](const JsonValue& m) {
    const JsonValue* annotations = Field(m, "annotations");
    return annotations != nullptr &&
           StringField(*annotations, "org.opencontainers.image.ref.name") == tag;
  });
  std::vector<const JsonValue*> for_us;
  for (const JsonValue* c : candidates) {
    if (PlatformMatches(*c)) for_us.push_back(c);
  }
  if (for_us.empty()) {
    return Status::Error(where + " has no manifest for linux/" + HostArchitecture());
  }
  return for_us.front();
}

Result<ImagePlan> FromManifest(const std::string& dir, const std::string& manifest_text,
                               const std::string& manifest_what) {
  Result<JsonValue> manifest = ParseJson(manifest_text, manifest_what);
  if (!manifest.ok()) return manifest.status();
  const JsonValue* config = Field(*manifest, "config");
  if (config == nullptr) return Status::Error(manifest_what + " has no config");
  ImagePlan plan;
  plan.format = "oci";
  Result<std::string> config_text = ReadJsonBlob(dir, *config, "the config of " + manifest_what);
  if (!config_text.ok()) return config_text.status();
  plan.config_json = *config_text;
  plan.config_digest = Sha256Digest(plan.config_json);
  const JsonValue* layers = Field(*manifest, "layers");
  if (layers == nullptr || layers->kind_case() != JsonValue::kListValue) {
    return Status::Error(manifest_what + " has no list of layers");
  }
  const auto& list = layers->list_value().values();
  for (int i = 0; i < list.size(); ++i) {
    const JsonValue& layer = list[i];
    const std::string count =
        "layer " + std::to_string(i + 1) + " of " + std::to_string(list.size());
    Result<std::string> digest = DigestOf(layer, count + " of " + manifest_what);
    if (!digest.ok()) return digest.status();
    const std::string media_type = StringField(layer, "mediaType");
    if (media_type.find("zstd") != std::string::npos) {
      return Status::Error(count + " (" + Short(*digest) + ") is " + media_type +
                           ": only tar and tar+gzip layers are supported");
    }
    LayerPlan lp;
    lp.path = BlobPath(dir, *digest);
    lp.label = count + " (blobs/sha256/" + digest->substr(7, 12) + "...)";
    lp.digest = *digest;
    lp.size = SizeOf(layer);
    plan.layers.push_back(std::move(lp));
  }
  return plan;
}

// Fills diff_ids from the config and checks their number.
Status AddDiffIds(ImagePlan* plan, const std::string& config_what) {
  Result<JsonValue> config = ParseJson(plan->config_json, config_what);
  if (!config.ok()) return config.status();
  const JsonValue* rootfs = Field(*config, "rootfs");
  if (rootfs == nullptr) return Status::Ok();
  Result<std::optional<std::vector<std::string>>> ids = StringListField(*rootfs, "diff_ids");
  if (!ids.ok()) return Status::Error(config_what + ": rootfs." + ids.status().message());
  if (!ids->has_value()) return Status::Ok();
  if ((*ids)->size() != plan->layers.size()) {
    return Status::Error(config_what + " lists " + std::to_string((*ids)->size()) +
                         " layer digests (rootfs.diff_ids) for " +
                         std::to_string(plan->layers.size()) + " layers");
  }
  for (size_t i = 0; i < plan->layers.size(); ++i) plan->layers[i].diff_id = (**ids)[i];
  return Status::Ok();
}

Status CheckLayersPresent(const ImagePlan& plan) {
  for (const LayerPlan& layer : plan.layers) {
    struct stat st {};
    if (::stat(layer.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::Error(layer.label + ": the layer file " + layer.path + " is missing");
    }
    if (layer.size && *layer.size != static_cast<uint64_t>(st.st_size)) {
      return Status::Error(layer.label + ": " + layer.path + " is " + std::to_string(st.st_size) +
                           " bytes, not " + std::to_string(*layer.size) +
                           " as the manifest says: it is truncated or corrupt");
    }
  }
  return Status::Ok();
}

// `base_dir`/`target` with ".." resolved by name, or nullopt if it climbs
// above the root.
std::optional<std::string> ResolveByName(const std::string& base_dir, const std::string& target) {
  if (!target.empty() && target[0] == '/') return std::nullopt;
  std::vector<std::string> parts;
  std::string joined = base_dir.empty() ? target : base_dir + "/" + target;
  std::string current;
  for (size_t i = 0; i <= joined.size(); ++i) {
    if (i < joined.size() && joined[i] != '/') {
      current += joined[i];
      continue;
    }
    if (current == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!current.empty() && current != ".") {
      parts.push_back(current);
    }
    current.clear();
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

}  // namespace

Result<ImagePlan> ReadOciLayout(const std::string& dir, const ImageReference& wanted) {
  Result<std::string> layout_text = ReadFile(dir + "/oci-layout");
  if (!layout_text.ok()) {
    return Status::Error(dir + " is not an OCI image layout: " + layout_text.status().message());
  }
  Result<JsonValue> layout = ParseJson(*layout_text, dir + "/oci-layout");
  if (!layout.ok()) return layout.status();
  const std::string version = StringField(*layout, "imageLayoutVersion");
  if (version.rfind("1.", 0) != 0) {
    return Status::Error(dir + "/oci-layout: imageLayoutVersion '" + version +
                         "' is not supported (1.x is)");
  }
  const std::string index_path = dir + "/index.json";
  Result<std::string> index_text = ReadFile(index_path);
  if (!index_text.ok()) return index_text.status();
  Result<JsonValue> index = ParseJson(*index_text, index_path);
  if (!index.ok()) return index.status();

  std::string where = index_path;
  JsonValue current = *index;
  for (int depth = 0; depth < 4; ++depth) {
    Result<const JsonValue*> chosen = ChooseManifest(current, where, wanted.tag);
    if (!chosen.ok()) return chosen.status();
    const JsonValue descriptor = **chosen;
    Result<std::string> digest = DigestOf(descriptor, "a manifest of " + where);
    if (!digest.ok()) return digest.status();
    const std::string what = "manifest " + Short(*digest);
    Result<std::string> text = ReadJsonBlob(dir, descriptor, what);
    if (!text.ok()) return text.status();
    Result<JsonValue> parsed = ParseJson(*text, what);
    if (!parsed.ok()) return parsed.status();
    std::string media_type = StringField(descriptor, "mediaType");
    if (media_type.empty()) media_type = StringField(*parsed, "mediaType");
    if (IsIndexType(media_type) || Field(*parsed, "manifests") != nullptr) {
      current = *parsed;
      where = "index " + Short(*digest);
      continue;
    }
    Result<ImagePlan> plan = FromManifest(dir, *text, what);
    if (!plan.ok()) return plan.status();
    if (Status s = AddDiffIds(&plan.value(), "the config of " + what); !s.ok()) return s;
    if (Status s = CheckLayersPresent(*plan); !s.ok()) return s;
    return plan;
  }
  return Status::Error(index_path + ": indexes nest too deep");
}

Result<ImagePlan> ReadDockerSave(const std::string& dir, const ImageReference& wanted) {
  const std::string manifest_path = dir + "/manifest.json";
  struct stat st {};
  if (::stat(manifest_path.c_str(), &st) != 0) {
    if (::stat((dir + "/oci-layout").c_str(), &st) == 0) return ReadOciLayout(dir, wanted);
    return Status::Error("the tarball has neither manifest.json (docker save) nor oci-layout");
  }
  Result<std::string> text = ReadFile(manifest_path);
  if (!text.ok()) return text.status();
  Result<JsonValue> manifest = ParseJson(*text, "manifest.json");
  if (!manifest.ok()) return manifest.status();
  if (manifest->kind_case() != JsonValue::kListValue || manifest->list_value().values().empty()) {
    return Status::Error("manifest.json is not a list of images");
  }
  const auto& entries = manifest->list_value().values();
  const JsonValue* entry = nullptr;
  std::string tags;
  for (const auto& e : entries) {
    Result<std::optional<std::vector<std::string>>> repo_tags = StringListField(e, "RepoTags");
    if (!repo_tags.ok() || !repo_tags->has_value()) continue;
    for (const std::string& t : **repo_tags) {
      tags += (tags.empty() ? "" : ", ") + t;
      Result<ImageReference> ref = ParseImageReference(t);
      if (ref.ok() && *ref == wanted && entry == nullptr) entry = &e;
    }
  }
  if (entry == nullptr) {
    if (entries.size() > 1) {
      return Status::Error("manifest.json holds " + std::to_string(entries.size()) + " images (" +
                           tags + ") and none is " + wanted.ToString() +
                           ": name the one to import with --name");
    }
    entry = &entries[0];
  }

  ImagePlan plan;
  plan.format = "docker";
  auto safe = [&](const std::string& path, const std::string& what) -> Result<std::string> {
    std::vector<std::string> parts;
    if (path.empty() || path[0] == '/' || !SplitRelative(path, &parts) || parts.empty()) {
      return Status::Error("manifest.json: " + what + " '" + path +
                           "' is not a path in the tarball");
    }
    return dir + "/" + path;
  };
  // A blob named by its digest (<hex>.json, blobs/sha256/<hex>) is checked against it.
  auto named_digest = [](const std::string& path) -> std::optional<std::string> {
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) {
      base.resize(base.size() - 5);
    }
    const std::string digest = "sha256:" + base;
    if (ValidSha256Digest(digest)) return digest;
    return std::nullopt;
  };
  const std::string config_name = StringField(*entry, "Config");
  Result<std::string> config_path = safe(config_name, "Config");
  if (!config_path.ok()) return config_path.status();
  Result<std::string> config = ReadFile(*config_path);
  if (!config.ok())
    return Status::Error("the image config is missing: " + config.status().message());
  plan.config_json = *config;
  plan.config_digest = Sha256Digest(plan.config_json);
  if (auto expected = named_digest(config_name); expected && *expected != plan.config_digest) {
    return Status::Error("the image config " + config_name + " has digest " + plan.config_digest +
                         ", not the one its name says: it is corrupt");
  }
  Result<std::optional<std::vector<std::string>>> layers = StringListField(*entry, "Layers");
  if (!layers.ok()) return Status::Error("manifest.json: " + layers.status().message());
  if (!layers->has_value()) return Status::Error("manifest.json: the image has no Layers");
  const auto& names = **layers;
  for (size_t i = 0; i < names.size(); ++i) {
    Result<std::string> path = safe(names[i], "layer");
    if (!path.ok()) return path.status();
    LayerPlan lp;
    lp.path = *path;
    lp.label = "layer " + std::to_string(i + 1) + " of " + std::to_string(names.size()) + " (" +
               names[i] + ")";
    // Old docker names layers <id>/layer.tar, whose id is no digest of it.
    if (names[i].rfind("blobs/", 0) == 0) lp.digest = named_digest(names[i]);
    plan.layers.push_back(std::move(lp));
  }
  if (Status s = AddDiffIds(&plan, "the image config " + config_name); !s.ok()) return s;
  for (const LayerPlan& layer : plan.layers) {
    if (!layer.diff_id && !layer.digest) {
      return Status::Error("the image config " + config_name +
                           " has no rootfs.diff_ids: the layers cannot be checked");
    }
  }
  if (Status s = CheckLayersPresent(plan); !s.ok()) return s;
  return plan;
}

Status ExtractTarball(const std::string& tarball, const std::string& dest) {
  Result<std::unique_ptr<BlobReader>> blob = BlobReader::Open(tarball, tarball);
  if (!blob.ok()) return blob.status();
  Fd root(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Status::Error(ErrnoText(dest));

  struct Pending {
    std::string path, target, raw;
  };
  std::vector<Pending> links;
  std::unique_ptr<archive, void (*)(archive*)> reader(archive_read_new(),
                                                      [](archive* a) { archive_read_free(a); });
  archive_read_support_format_tar(reader.get());
  struct Context {
    BlobReader* blob;
    char buffer[65536];
  } context{blob->get(), {}};
  auto read = [](archive* a, void* data, const void** out) -> la_ssize_t {
    auto* c = static_cast<Context*>(data);
    ssize_t n = c->blob->Read(c->buffer, sizeof(c->buffer));
    if (n < 0) {
      archive_set_error(a, EIO, "%s", c->blob->error().message().c_str());
      return -1;
    }
    *out = c->buffer;
    return n;
  };
  auto fail = [&](const std::string& why) {
    if (!(*blob)->error().ok()) return (*blob)->error();
    return Status::Error(tarball + ": " + why);
  };
  if (archive_read_open(reader.get(), &context, nullptr, read, nullptr) != ARCHIVE_OK) {
    return fail(std::string("is not a tar archive: ") + archive_error_string(reader.get()));
  }
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(reader.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_RETRY) continue;
    if (r < ARCHIVE_WARN) {
      const char* why = archive_error_string(reader.get());
      return fail(std::string("is not a valid tar archive (") + (why ? why : "?") + ")");
    }
    const char* raw = archive_entry_pathname(entry);
    std::vector<std::string> parts;
    if (raw == nullptr || !SplitRelative(raw, &parts)) {
      return fail(std::string("entry '") + (raw ? raw : "") +
                  "' has a '..' component: its path escapes the tarball");
    }
    if (parts.empty()) continue;
    std::string path, parent;
    for (size_t i = 0; i < parts.size(); ++i) {
      path += (i ? "/" : "") + parts[i];
      if (i + 1 < parts.size()) parent += (i ? "/" : "") + parts[i];
    }
    const mode_t type = archive_entry_filetype(entry);
    if (const char* hard = archive_entry_hardlink(entry)) {
      links.push_back({path, hard, raw});
      continue;
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(entry);
      const std::string base_dir = parent;
      std::optional<std::string> resolved = target ? ResolveByName(base_dir, target) : std::nullopt;
      if (!resolved) {
        return fail(std::string("entry '") + raw + "' is a symlink to '" + (target ? target : "") +
                    "', which leads out of the tarball");
      }
      links.push_back({path, *resolved, raw});
      continue;
    }
    if (type == AE_IFDIR) {
      if (Result<Fd> d = MakeDirsInRoot(root.get(), path); !d.ok())
        return fail(d.status().message());
      continue;
    }
    if (type != AE_IFREG) continue;
    Result<Fd> dir = MakeDirsInRoot(root.get(), parent);
    if (!dir.ok()) return fail(dir.status().message());
    Fd file(::openat(dir->get(), parts.back().c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!file.valid()) return fail(ErrnoText(std::string("entry '") + raw + "'"));
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int rr = archive_read_data_block(reader.get(), &block, &size, &offset);
      if (rr == ARCHIVE_EOF) break;
      if (rr < ARCHIVE_WARN) {
        const char* why = archive_error_string(reader.get());
        return fail(std::string("entry '") + raw + "' cannot be read (" + (why ? why : "?") + ")");
      }
      for (size_t done = 0; done < size;) {
        ssize_t n = ::pwrite(file.get(), static_cast<const char*>(block) + done, size - done,
                             static_cast<off_t>(offset) + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail(ErrnoText(std::string("write ") + dest + "/" + path));
        done += static_cast<size_t>(n);
      }
    }
  }
  if (Status s = (*blob)->Drain(); !s.ok()) return s;
  for (const Pending& link : links) {
    std::vector<std::string> target_parts;
    if (!SplitRelative(link.target, &target_parts) || target_parts.empty()) {
      return fail("entry '" + link.raw + "' links to '" + link.target + "', outside the tarball");
    }
    const std::string target = dest + "/" + link.target;
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return fail("entry '" + link.raw + "' links to '" + link.target +
                  "', which is not a file of the tarball");
    }
    const size_t slash = link.path.rfind('/');
    if (slash != std::string::npos) {
      if (Result<Fd> d = MakeDirsInRoot(root.get(), link.path.substr(0, slash)); !d.ok()) {
        return fail(d.status().message());
      }
    }
    if (::link(target.c_str(), (dest + "/" + link.path).c_str()) != 0) {
      return fail(ErrnoText("entry '" + link.raw + "'"));
    }
  }
  return Status::Ok();
}

}  // namespace keel::modules::oci
