#include "tools/keelctl/image_command.hpp"

#include <sys/stat.h>

#include <iostream>

#include "kernel/runtime/json_writer.hpp"
#include "modules/containerizer/oci/image_store.hpp"
#include "tools/keelctl/master_client.hpp"
#include "tools/keelctl/table.hpp"

namespace keel::keelctl {
namespace {

namespace oci = keel::modules::oci;

constexpr const char* kImageUsage =
    "usage: keelctl image import PATH --name=NAME[:TAG] [--force] [--work_dir=DIR]\n"
    "       keelctl image list [--json] [--work_dir=DIR]\n"
    "       keelctl image remove NAME[:TAG] [--work_dir=DIR]\n";

std::string FlagOr(const std::map<std::string, std::string>& flags, const std::string& name,
                   const std::string& fallback) {
  auto it = flags.find(name);
  return it == flags.end() || it->second.empty() ? fallback : it->second;
}

int Fail(const std::string& message, int code = kExitFailed) {
  std::cerr << "keelctl: " << message << "\n";
  return code;
}

std::string ShortId(const std::string& id) {
  return id.rfind("sha256:", 0) == 0 ? id.substr(7, 12) : id;
}

int Import(const std::map<std::string, std::string>& flags, oci::ImageStore& store,
           const std::string& path) {
  const std::string name = FlagOr(flags, "name", "");
  if (name.empty()) return Fail("image import needs --name=NAME[:TAG]", kExitUsage);
  auto reference = oci::ParseImageReference(name);
  if (!reference.ok()) return Fail(reference.status().message(), kExitUsage);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Fail(path + ": no such file or directory", kExitNotFound);
  const bool force = FlagOr(flags, "force", "false") == "true";
  auto image = store.Import(path, *reference, force);
  if (!image.ok()) return Fail(image.status().message());
  std::cout << "imported " << image->reference.ToString() << " (" << ShortId(image->id) << ", "
            << image->layers << (image->layers == 1 ? " layer" : " layers") << ", " << image->format
            << ") into " << image->dir << "\n";
  return kExitOk;
}

int List(const std::map<std::string, std::string>& flags, const oci::ImageStore& store) {
  auto images = store.List();
  if (!images.ok()) return Fail(images.status().message());
  if (FlagOr(flags, "json", "false") == "true") {
    runtime::JsonWriter out;
    out.BeginArray();
    for (const auto& image : *images) {
      out.BeginObject()
          .Field("name", image.reference.name)
          .Field("tag", image.reference.tag)
          .Field("id", image.id)
          .Field("format", image.format)
          .Field("layers", image.layers)
          .Field("imported", image.imported)
          .Field("source", image.source)
          .Field("rootfs", image.rootfs)
          .EndObject();
    }
    out.EndArray();
    std::cout << out.str() << "\n";
    return kExitOk;
  }
  Table table({"NAME", "TAG", "ID", "LAYERS", "FORMAT", "IMPORTED"});
  for (const auto& image : *images) {
    table.Add({image.reference.name, image.reference.tag, ShortId(image.id),
               std::to_string(image.layers), image.format, image.imported});
  }
  table.Print(std::cout);
  return kExitOk;
}

int Remove(oci::ImageStore& store, const std::string& name) {
  auto reference = oci::ParseImageReference(name);
  if (!reference.ok()) return Fail(reference.status().message(), kExitUsage);
  auto removed = store.Remove(*reference);
  if (!removed.ok()) return Fail(removed.status().message());
  if (!*removed) {
    return Fail("no image " + reference->ToString() + " in " + store.images_dir(), kExitNotFound);
  }
  std::cout << "removed " << reference->ToString() << "\n";
  return kExitOk;
}

}  // namespace

int Image(const std::map<std::string, std::string>& flags, const std::vector<std::string>& words) {
  oci::ImageStore store(
      oci::ImageStore::ModuleDirOf(FlagOr(flags, "work_dir", kDefaultAgentWorkDir)));
  if (words.size() == 2 && words[0] == "import") return Import(flags, store, words[1]);
  if (words.size() == 1 && words[0] == "list") return List(flags, store);
  if (words.size() == 2 && words[0] == "remove") return Remove(store, words[1]);
  std::cerr << "keelctl: " << kImageUsage;
  return kExitUsage;
}

}  // namespace keel::keelctl
