#include "modules/containerizer/oci/image_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <memory>

#include "modules/containerizer/oci/blob_reader.hpp"
#include "modules/containerizer/oci/rooted_files.hpp"
#include "modules/containerizer/oci/image_source.hpp"
#include "modules/containerizer/oci/json.hpp"
#include "modules/containerizer/oci/layer_unpacker.hpp"

namespace keel::modules::oci {
namespace {

std::string NowIso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// What runc needs to find in a rootfs to mount over, made now so that a
// read-only rootfs works too (see README.md, parameter `rootfs`).
Status MakeMountPoints(const std::string& rootfs) {
  Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Status::Error(ErrnoText(rootfs));
  for (const char* dir : {"proc", "sys", "dev", "tmp", "etc", "mnt/mesos/sandbox"}) {
    Fd existing(OpenInRoot(root.get(), dir, O_PATH));
    if (existing.valid()) continue;  // whatever the image has there, a symlink too
    if (Result<Fd> made = MakeDirsInRoot(root.get(), dir); !made.ok()) return made.status();
  }
  Fd etc(OpenInRoot(root.get(), "etc", O_PATH | O_DIRECTORY));
  if (!etc.valid()) return Status::Ok();  // /etc is no directory: nothing is bind-mounted there
  for (const char* file : {"hosts", "resolv.conf"}) {
    struct stat st {};
    if (::fstatat(etc.get(), file, &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    Fd made(::openat(etc.get(), file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!made.valid()) return Status::Error(ErrnoText(rootfs + "/etc/" + file));
  }
  return Status::Ok();
}

Status ApplyLayers(const ImagePlan& plan, const std::string& rootfs) {
  Result<LayerUnpacker> unpacker = LayerUnpacker::Open(rootfs);
  if (!unpacker.ok()) return unpacker.status();
  for (const LayerPlan& layer : plan.layers) {
    Result<std::unique_ptr<BlobReader>> blob = BlobReader::Open(layer.path, layer.label);
    if (!blob.ok()) return blob.status();
    if (Status s = unpacker.value().Apply(**blob); !s.ok()) return s;
    const std::string stored = (*blob)->stored_digest();
    const std::string plain = (*blob)->uncompressed_digest();
    if (layer.digest && stored != *layer.digest) {
      return Status::Error(layer.label + ": " + layer.path + " has digest " + stored + ", not " +
                           *layer.digest + " as the manifest says: the layer is corrupt");
    }
    if (layer.size && (*blob)->stored_size() != *layer.size) {
      return Status::Error(layer.label + ": " + layer.path + " is " +
                           std::to_string((*blob)->stored_size()) + " bytes, not " +
                           std::to_string(*layer.size) + " as the manifest says");
    }
    if (layer.diff_id && plain != *layer.diff_id) {
      return Status::Error(layer.label + ": " + layer.path + " unpacks to a tar with digest " +
                           plain + ", not " + *layer.diff_id +
                           " as the config's rootfs.diff_ids says: the layer is corrupt");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ImageConfig> ParseImageConfig(const std::string& json, const std::string& what) {
  Result<JsonValue> parsed = ParseJson(json, what);
  if (!parsed.ok()) return parsed.status();
  ImageConfig config;
  const JsonValue* c = Field(*parsed, "config");
  if (c == nullptr) return config;  // an image with no defaults: the task must say what to run
  auto list = [&](const char* name, std::vector<std::string>* out) -> Status {
    Result<std::optional<std::vector<std::string>>> values = StringListField(*c, name);
    if (!values.ok()) return Status::Error(what + ": config." + values.status().message());
    if (values->has_value()) *out = **values;
    return Status::Ok();
  };
  if (Status s = list("Env", &config.env); !s.ok()) return s;
  if (Status s = list("Entrypoint", &config.entrypoint); !s.ok()) return s;
  if (Status s = list("Cmd", &config.cmd); !s.ok()) return s;
  config.working_dir = StringField(*c, "WorkingDir");
  config.user = StringField(*c, "User");
  return config;
}

ImageStore::ImageStore(std::string module_dir)
    : module_dir_(std::move(module_dir)),
      images_dir_(module_dir_ + "/images"),
      containers_dir_(module_dir_ + "/containers") {}

std::string ImageStore::ModuleDirOf(const std::string& agent_work_dir) {
  return agent_work_dir + "/modules/oci";
}

std::string ImageStore::DirOf(const ImageReference& reference) const {
  return images_dir_ + "/" + EscapeImageName(reference.name) + "/" + reference.tag;
}

void ImageStore::RemoveStaleImports() const {
  // An import holds an flock on images/.tmp/<x>.lock from before it makes
  // images/.tmp/<x> until it has removed it; a removal leaves no lock.
  const std::string tmp = images_dir_ + "/.tmp";
  const std::string suffix = ".lock";
  for (const std::string& name : ListDir(tmp)) {
    const bool is_lock = name.size() > suffix.size() &&
                         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    const std::string dir =
        tmp + "/" + (is_lock ? name.substr(0, name.size() - suffix.size()) : name);
    const std::string lock_path = dir + suffix;
    if (is_lock && IsDir(dir)) continue;  // handled with its directory
    Fd lock(::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (lock.valid() && ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;  // under way
    if (!is_lock) (void)RemoveTree(dir);
    if (lock.valid()) ::unlink(lock_path.c_str());
  }
}

Status ImageStore::Unpack(const std::string& source, const ImageReference& reference,
                          const std::string& work, const std::string& image_dir) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return Status::Error(ErrnoText(source));
  Result<ImagePlan> plan = Status::Error("unreachable");
  if (S_ISDIR(st.st_mode)) {
    plan = ReadOciLayout(source, reference);
  } else if (S_ISREG(st.st_mode)) {
    const std::string unpacked = work + "/source";
    if (Status s = MakeDirs(unpacked, 0700); !s.ok()) return s;
    if (Status s = ExtractTarball(source, unpacked); !s.ok()) return s;
    plan = ReadDockerSave(unpacked, reference);
  } else {
    return Status::Error(source + " is neither an OCI layout directory nor a tarball");
  }
  if (!plan.ok()) return plan.status();
  Result<ImageConfig> config = ParseImageConfig(plan->config_json, "the image config");
  if (!config.ok()) return config.status();

  const std::string rootfs = image_dir + "/rootfs";
  if (Status s = MakeDirs(image_dir, 0755); !s.ok()) return s;
  if (::mkdir(rootfs.c_str(), 0755) != 0) return Status::Error(ErrnoText("mkdir " + rootfs));
  if (Status s = ApplyLayers(*plan, rootfs); !s.ok()) return s;
  if (Status s = MakeMountPoints(rootfs); !s.ok()) return s;
  if (Status s = WriteFileAtomically(image_dir + "/config.json", plan->config_json); !s.ok()) {
    return s;
  }
  char resolved[PATH_MAX];
  const std::string absolute = ::realpath(source.c_str(), resolved) ? resolved : source;
  JsonOut meta;
  meta.BeginObject()
      .Key("name")
      .String(reference.name)
      .Key("tag")
      .String(reference.tag)
      .Key("id")
      .String(plan->config_digest)
      .Key("format")
      .String(plan->format)
      .Key("source")
      .String(absolute)
      .Key("layers")
      .Uint(plan->layers.size())
      .Key("imported")
      .String(NowIso8601())
      .EndObject();
  return WriteFileAtomically(image_dir + "/image.json", meta.text() + "\n");
}

Result<StoredImage> ImageStore::Import(const std::string& source, const ImageReference& reference,
                                       bool replace) {
  const std::string target = DirOf(reference);
  if (!replace && IsDir(target)) {
    return Status::Error("the store already has " + reference.ToString() + " (" + target +
                         "); remove it first, or import with --force to replace it");
  }
  const std::string tmp = images_dir_ + "/.tmp";
  if (Status s = MakeDirs(tmp, 0700); !s.ok()) return s;
  RemoveStaleImports();
  // The lock first (see RemoveStaleImports), then the directory.
  std::string work;
  Fd lock;
  for (;;) {
    work = tmp + "/" + RandomHex(8);
    lock = Fd(::open((work + ".lock").c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
      return Status::Error(ErrnoText("cannot lock " + work + ".lock"));
    }
    struct stat st {};
    // A cleaner took it for a stale lock between open and flock: another name.
    if (::fstat(lock.get(), &st) == 0 && st.st_nlink > 0) break;
  }
  const std::string lock_path = work + ".lock";
  if (::mkdir(work.c_str(), 0700) != 0) {
    Status error = Status::Error(ErrnoText("mkdir " + work));
    ::unlink(lock_path.c_str());
    return error;
  }
  const std::string staged = work + "/image";
  Status unpacked = Unpack(source, reference, work, staged);
  auto fail = [&](Status error) -> Result<StoredImage> {
    Status removed = RemoveTree(work);
    ::unlink(lock_path.c_str());
    if (!removed.ok()) {
      return Status::Error(error.message() + " (and the half-made import is left in " + work +
                           ": " + removed.message() + ")");
    }
    return error;
  };
  if (!unpacked.ok())
    return fail(Status::Error("cannot import " + source + " as " + reference.ToString() + ": " +
                              unpacked.message()));

  const std::string name_dir = target.substr(0, target.rfind('/'));
  if (Status s = MakeDirs(name_dir, 0755); !s.ok()) return fail(s);
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    const int rename_errno = errno;
    if (rename_errno != EEXIST && rename_errno != ENOTEMPTY) {
      ::rmdir(name_dir.c_str());  // if made just now, and so empty: the store as it was
      return fail(Status::Error(ErrnoText("rename " + staged + " to " + target, rename_errno)));
    }
    if (!replace) {
      return fail(Status::Error("the store already has " + reference.ToString() + " (" + target +
                                "); remove it first, or import with --force to replace it"));
    }
    if (auto users = UsersOf(target); !users.empty()) {
      return fail(Status::Error(reference.ToString() + " is in use by container " + users[0] +
                                "; it cannot be replaced until the container ends"));
    }
    // Swapped in one step: readers see the old image or the new one.
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0) {
      return fail(Status::Error(ErrnoText("swap " + staged + " with " + target)));
    }
  }
  (void)RemoveTree(work);  // the old image, when replaced
  ::unlink(lock_path.c_str());
  Result<StoredImage> stored = Load(target);
  if (!stored.ok()) return stored.status();
  return stored;
}

Result<StoredImage> ImageStore::Load(const std::string& dir) const {
  Result<std::string> meta_text = ReadFile(dir + "/image.json");
  if (!meta_text.ok()) return meta_text.status();
  Result<JsonValue> meta = ParseJson(*meta_text, dir + "/image.json");
  if (!meta.ok()) return meta.status();
  StoredImage image;
  image.reference.name = StringField(*meta, "name");
  image.reference.tag = StringField(*meta, "tag");
  image.id = StringField(*meta, "id");
  image.format = StringField(*meta, "format");
  image.source = StringField(*meta, "source");
  image.imported = StringField(*meta, "imported");
  if (const JsonValue* layers = Field(*meta, "layers");
      layers && layers->kind_case() == JsonValue::kNumberValue) {
    image.layers = static_cast<uint64_t>(layers->number_value());
  }
  image.dir = dir;
  image.rootfs = dir + "/rootfs";
  if (!IsDir(image.rootfs)) return Status::Error(image.rootfs + " is missing");
  Result<std::string> config_text = ReadFile(dir + "/config.json");
  if (!config_text.ok()) return config_text.status();
  Result<ImageConfig> config = ParseImageConfig(*config_text, dir + "/config.json");
  if (!config.ok()) return config.status();
  image.config = std::move(config).value();
  return image;
}

Result<std::optional<StoredImage>> ImageStore::Find(const ImageReference& reference) const {
  const std::string dir = DirOf(reference);
  if (!IsDir(dir)) return std::optional<StoredImage>();
  Result<StoredImage> image = Load(dir);
  if (!image.ok()) {
    return Status::Error("the image " + reference.ToString() + " in " + dir +
                         " is broken: " + image.status().message());
  }
  return std::optional<StoredImage>(std::move(image).value());
}

Result<std::vector<StoredImage>> ImageStore::List() const {
  std::vector<StoredImage> images;
  for (const std::string& escaped : ListDir(images_dir_)) {
    std::string name;
    if (escaped[0] == '.' || !UnescapeImageName(escaped, &name)) continue;
    for (const std::string& tag : ListDir(images_dir_ + "/" + escaped)) {
      Result<StoredImage> image = Load(images_dir_ + "/" + escaped + "/" + tag);
      if (image.ok()) images.push_back(std::move(image).value());
    }
  }
  return images;
}

Result<bool> ImageStore::Remove(const ImageReference& reference) {
  const std::string dir = DirOf(reference);
  if (!IsDir(dir)) return false;
  if (auto users = UsersOf(dir); !users.empty()) {
    return Status::Error(reference.ToString() + " is in use by container " + users[0] +
                         "; it cannot be removed until the container ends");
  }
  // Out of sight first, so a half-removed image is never found.
  const std::string tmp = images_dir_ + "/.tmp";
  if (Status s = MakeDirs(tmp, 0700); !s.ok()) return s;
  const std::string doomed = tmp + "/" + RandomHex(8) + ".removing";
  if (::rename(dir.c_str(), doomed.c_str()) != 0) {
    return Status::Error(ErrnoText("rename " + dir + " to " + doomed));
  }
  const std::string name_dir = dir.substr(0, dir.rfind('/'));
  ::rmdir(name_dir.c_str());  // only if no other tag is left
  if (Status s = RemoveTree(doomed); !s.ok()) return s;
  return true;
}

std::vector<std::string> ImageStore::UsersOf(const std::string& dir) const {
  std::vector<std::string> users;
  for (const std::string& id : ListDir(containers_dir_)) {
    Result<std::string> used = ReadFile(containers_dir_ + "/" + id + "/image");
    if (used.ok() && (*used == dir || *used == dir + "\n")) users.push_back(id);
  }
  return users;
}

}  // namespace keel::modules::oci
