// The oci image store: imports from OCI layouts and docker save tarballs,
// layers and whiteouts, digests, corrupt input, paths escaping the rootfs,
// and keelctl image import/list/remove through the real binary.
#include "modules/containerizer/oci/image_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "modules/containerizer/oci/blob_reader.hpp"
#include "modules/containerizer/oci/image_reference.hpp"
#include "modules/containerizer/oci/tests/test_image.hpp"

namespace keel::modules::oci {
namespace {

namespace fs = std::filesystem;
using testing::Blob;
using testing::ReadAll;
using testing::TarBuilder;
using testing::TempDir;
using testing::WriteAll;

constexpr const char* kTar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

ImageReference Ref(const std::string& text) {
  auto ref = ParseImageReference(text);
  EXPECT_TRUE(ref.ok()) << ref.status().message();
  return ref.ok() ? *ref : ImageReference{};
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Everything under `dir`, relative, sorted: what "the store unchanged" means.
std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::end(it); it.increment(ec)) {
    paths.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveBusybox()) GTEST_SKIP() << "no /bin/busybox (Debian's busybox-static)";
  }
  // An OCI layout of these layers over nothing, config with matching diff_ids.
  std::string Layout(const std::string& name, const std::vector<Blob>& layers) {
    std::vector<std::string> ids;
    for (const Blob& b : layers) ids.push_back(testing::DiffId(b.data, dir.path()));
    const std::string path = dir.path() + "/" + name;
    testing::WriteOciLayout(path, layers, testing::BusyboxConfig(ids));
    return path;
  }

  TempDir dir;
  ImageStore store{dir.path() + "/modules/oci"};
};

TEST(ImageDigestTest, Sha256IsTheStandardOne) {
  EXPECT_EQ(Sha256Digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ImageReferenceTest, NamesAndTags) {
  EXPECT_EQ(Ref("busybox").ToString(), "busybox:latest");
  EXPECT_EQ(Ref("busybox:1.36").ToString(), "busybox:1.36");
  EXPECT_EQ(Ref("library/busybox:1").ToString(), "busybox:1");
  EXPECT_EQ(Ref("docker.io/library/busybox").ToString(), "busybox:latest");
  EXPECT_EQ(Ref("my-team/tools:v2").ToString(), "my-team/tools:v2");
  EXPECT_EQ(Ref("registry.local:5000/tools").ToString(), "registry.local:5000/tools:latest");
  EXPECT_EQ(EscapeImageName("registry.local:5000/tools"), "registry.local%3A5000%2Ftools");
  std::string back;
  ASSERT_TRUE(UnescapeImageName("registry.local%3A5000%2Ftools", &back));
  EXPECT_EQ(back, "registry.local:5000/tools");
  for (const char* bad : {"", "BusyBox", "busybox:", "a//b", "../x", "busybox@sha256:abcd",
                          "busybox:bad tag", "-x"}) {
    EXPECT_FALSE(ParseImageReference(bad).ok()) << bad;
  }
  EXPECT_NE(ParseImageReference("busybox@sha256:ab").status().message().find("digest"),
            std::string::npos);
}

TEST_F(ImageStoreTest, ImportsAnOciLayoutWithWhiteouts) {
  TarBuilder base(true);
  base.Dir("bin").File("bin/busybox", ReadAll("/bin/busybox"), 0755).Symlink("bin/sh", "busybox");
  base.Dir("etc").File("etc/old", "old\n").File("etc/kept", "kept\n");
  base.Dir("opaque").File("opaque/lower", "lower\n").Dir("opaque/sub").File("opaque/sub/x", "x");
  base.File("setuid", "s", 04755);
  TarBuilder top(false);
  top.File("etc/.wh.old", "").File("etc/new", "new\n");
  // A whiteout never hides an entry of its own layer.
  top.File("etc/same", "same\n").File("etc/.wh.same", "");
  top.File("opaque/.wh..wh..opq", "").File("opaque/upper", "upper\n");
  const std::string layout = Layout("layout", {{kTarGzip, base.Finish()}, {kTar, top.Finish()}});

  auto image = store.Import(layout, Ref("test/layers:1"), false);
  ASSERT_TRUE(image.ok()) << image.status().message();
  const std::string root = image->rootfs;
  EXPECT_EQ(image->dir, dir.path() + "/modules/oci/images/test%2Flayers/1");
  EXPECT_EQ(image->layers, 2u);
  EXPECT_EQ(image->format, "oci");
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(image->config.env[1], "IMAGE_VAR=from-image");
  EXPECT_TRUE(Exists(root + "/bin/busybox"));
  EXPECT_EQ(fs::read_symlink(root + "/bin/sh"), "busybox");
  EXPECT_FALSE(Exists(root + "/etc/old"));
  EXPECT_EQ(ReadAll(root + "/etc/kept"), "kept\n");
  EXPECT_EQ(ReadAll(root + "/etc/new"), "new\n");
  EXPECT_EQ(ReadAll(root + "/etc/same"), "same\n");
  EXPECT_FALSE(Exists(root + "/etc/.wh.old"));
  EXPECT_FALSE(Exists(root + "/opaque/lower"));
  EXPECT_FALSE(Exists(root + "/opaque/sub"));
  EXPECT_EQ(ReadAll(root + "/opaque/upper"), "upper\n");
  EXPECT_FALSE(Exists(root + "/opaque/.wh..wh..opq"));
  struct stat st {};
  ASSERT_EQ(::stat((root + "/setuid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  // Mount points for runc, even in a read-only rootfs.
  EXPECT_TRUE(Exists(root + "/proc") && Exists(root + "/mnt/mesos/sandbox"));

  auto found = store.Find(Ref("test/layers:1"));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, image->id);
  auto listed = store.List();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].reference.ToString(), "test/layers:1");
  EXPECT_TRUE(Tree(store.images_dir() + "/.tmp").empty());
}

TEST_F(ImageStoreTest, ImportsADockerSaveTarball) {
  const std::string tarball = dir.path() + "/busybox.tar";
  testing::WriteBusyboxDockerSave(tarball, "busybox:1.36", dir.path());
  auto image = store.Import(tarball, Ref("busybox:1.36"), false);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(image->format, "docker");
  EXPECT_TRUE(Exists(image->rootfs + "/bin/busybox"));
  EXPECT_EQ(fs::read_symlink(image->rootfs + "/bin/ls"), "busybox");
  EXPECT_EQ(ReadAll(image->rootfs + "/etc/os-release").find("Keel test busybox"), 6u);
  // The unpacked tarball is gone; only the image is left.
  EXPECT_EQ(Tree(store.images_dir() + "/.tmp"), std::vector<std::string>{});
  // `docker save | gzip` works as well.
  ASSERT_EQ(std::system(("gzip -c " + tarball + " > " + tarball + ".gz").c_str()), 0);
  auto gzipped = store.Import(tarball + ".gz", Ref("busybox:gz"), false);
  ASSERT_TRUE(gzipped.ok()) << gzipped.status().message();
  EXPECT_EQ(gzipped->id, image->id);
  // One tag of a tarball holding one image can be imported under any name.
  auto other = store.Import(tarball, Ref("tools/bb"), false);
  ASSERT_TRUE(other.ok()) << other.status().message();
  EXPECT_EQ(other->reference.ToString(), "tools/bb:latest");
}

TEST_F(ImageStoreTest, ImportsADockerSaveTarballHoldingAnOciLayout) {
  // Newer docker: blobs/sha256/..., index.json and oci-layout, with manifest.json.
  const std::string layout = dir.path() + "/inner";
  testing::WriteBusyboxOciLayout(layout, dir.path());
  TarBuilder tar;
  for (const auto& entry : fs::recursive_directory_iterator(layout)) {
    const std::string name = fs::relative(entry.path(), layout).string();
    if (entry.is_directory()) {
      tar.Dir(name);
    } else {
      tar.File(name, ReadAll(entry.path()));
    }
  }
  const std::string tarball = dir.path() + "/oci-in-docker.tar";
  WriteAll(tarball, tar.Finish());
  auto image = store.Import(tarball, Ref("busybox"), false);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_TRUE(Exists(image->rootfs + "/bin/busybox"));
}

TEST_F(ImageStoreTest, DockerSaveLinksToALayerItHoldsOnce) {
  // Older docker writes a layer used twice once, and a symlink to it.
  TarBuilder layer;
  layer.File("twice", "t");
  const std::string data = layer.Finish();
  const std::string id = testing::DiffId(data, dir.path());
  const std::string config = testing::BusyboxConfig({id, id});
  auto tarball = [&](const std::string& link_target) {
    TarBuilder tar;
    tar.File("c.json", config).Dir("a").File("a/layer.tar", data).Dir("b");
    tar.Symlink("b/layer.tar", link_target);
    tar.File(
        "manifest.json",
        R"([{"Config":"c.json","RepoTags":["twice:1"],"Layers":["a/layer.tar","b/layer.tar"]}])");
    return tar.Finish();
  };
  WriteAll(dir.path() + "/twice.tar", tarball("../a/layer.tar"));
  auto image = store.Import(dir.path() + "/twice.tar", Ref("twice:1"), false);
  ASSERT_TRUE(image.ok()) << image.status().message();
  EXPECT_EQ(ReadAll(image->rootfs + "/twice"), "t");

  WriteAll(dir.path() + "/out.tar", tarball("../../../etc/passwd"));
  auto escaped = store.Import(dir.path() + "/out.tar", Ref("twice:2"), false);
  ASSERT_FALSE(escaped.ok());
  EXPECT_NE(escaped.status().message().find("b/layer.tar"), std::string::npos)
      << escaped.status().message();
  EXPECT_NE(escaped.status().message().find("leads out of the tarball"), std::string::npos);
}

TEST_F(ImageStoreTest, TruncatedTarballFailsAndLeavesTheStoreUnchanged) {
  const std::string tarball = dir.path() + "/busybox.tar";
  testing::WriteBusyboxDockerSave(tarball, "busybox:latest", dir.path());
  ASSERT_TRUE(store.Import(tarball, Ref("busybox"), false).ok());
  const auto before = Tree(store.images_dir());

  const std::string whole = ReadAll(tarball);
  const std::string cut = dir.path() + "/cut.tar";
  WriteAll(cut, whole.substr(0, whole.size() / 2));
  auto image = store.Import(cut, Ref("busybox:cut"), false);
  ASSERT_FALSE(image.ok());
  const std::string message = image.status().message();
  EXPECT_NE(message.find(cut), std::string::npos) << message;
  EXPECT_NE(message.find("runcated"), std::string::npos) << message;
  EXPECT_EQ(Tree(store.images_dir()), before);
}

TEST_F(ImageStoreTest, BadDigestFailsAndLeavesTheStoreUnchanged) {
  TarBuilder layer(true);
  layer.Dir("etc").File("etc/hello", "hello\n");
  const std::string layout = Layout("bad", {{kTarGzip, layer.Finish()}});
  fs::create_directories(store.images_dir() + "/.tmp");
  const auto before = Tree(store.images_dir());
  // Flip one byte of the layer blob: its digest no longer matches.
  for (const auto& blob : fs::directory_iterator(layout + "/blobs/sha256")) {
    std::string data = ReadAll(blob.path());
    if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f) continue;
    data[data.size() - 5] ^= 0x55;  // the gzip trailer's CRC: zlib says so too
    WriteAll(blob.path(), data);
  }
  auto image = store.Import(layout, Ref("bad"), false);
  ASSERT_FALSE(image.ok());
  const std::string message = image.status().message();
  EXPECT_TRUE(message.find("digest") != std::string::npos ||
              message.find("gzip") != std::string::npos)
      << message;
  EXPECT_NE(message.find("layer 1 of 1"), std::string::npos) << message;
  EXPECT_EQ(Tree(store.images_dir()), before);
  EXPECT_FALSE(store.Find(Ref("bad")).value().has_value());
}

TEST_F(ImageStoreTest, LayerThatDoesNotMatchItsDiffIdFails) {
  TarBuilder layer;
  layer.File("hello", "hello\n");
  const std::string data = layer.Finish();
  // The descriptor is honest about the blob, the config lies about its content.
  const std::string layout = dir.path() + "/lying";
  testing::WriteOciLayout(layout, {{kTar, data}},
                          testing::BusyboxConfig({Sha256Digest("something else")}));
  auto image = store.Import(layout, Ref("lying"), false);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("diff_ids"), std::string::npos)
      << image.status().message();
}

TEST_F(ImageStoreTest, MissingLayerFails) {
  TarBuilder layer;
  layer.File("hello", "hello\n");
  const std::string data = layer.Finish();
  const std::string layout = Layout("missing", {{kTar, data}});
  fs::remove(layout + "/blobs/sha256/" + Sha256Digest(data).substr(7));
  auto image = store.Import(layout, Ref("missing"), false);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("missing"), std::string::npos)
      << image.status().message();
  EXPECT_NE(image.status().message().find(Sha256Digest(data).substr(7)), std::string::npos);
}

TEST_F(ImageStoreTest, PathsNeverLeaveTheRootfs) {
  const std::string marker = "keel-oci-escape-" + std::to_string(::getpid());
  {
    TarBuilder evil;
    evil.File("../" + marker, "escaped");
    auto image = store.Import(Layout("dotdot", {{kTar, evil.Finish()}}), Ref("evil:dotdot"), false);
    ASSERT_FALSE(image.ok());
    EXPECT_NE(image.status().message().find("escapes the rootfs"), std::string::npos)
        << image.status().message();
    EXPECT_NE(image.status().message().find("../" + marker), std::string::npos);
  }
  {
    TarBuilder evil;
    evil.Hardlink("passwd", "../../../../etc/passwd");
    auto image = store.Import(Layout("hardlink", {{kTar, evil.Finish()}}), Ref("evil:link"), false);
    ASSERT_FALSE(image.ok());
    EXPECT_NE(image.status().message().find("escapes the rootfs"), std::string::npos)
        << image.status().message();
  }
  {
    // Symlinks lead where they would in a chroot: inside the rootfs.
    TarBuilder tricky;
    tricky.Symlink("up", "../../../../..").Symlink("root", "/").Symlink("tmpdir", "/tmp");
    tricky.File("up/" + marker, "a").File("root/tmp/" + marker, "b").File("tmpdir/x" + marker, "c");
    auto image =
        store.Import(Layout("symlinks", {{kTar, tricky.Finish()}}), Ref("evil:symlinks"), false);
    ASSERT_TRUE(image.ok()) << image.status().message();
    EXPECT_EQ(ReadAll(image->rootfs + "/" + marker), "a");
    EXPECT_EQ(ReadAll(image->rootfs + "/tmp/" + marker), "b");
    EXPECT_EQ(ReadAll(image->rootfs + "/tmp/x" + marker), "c");
    EXPECT_FALSE(Exists("/" + marker));
    EXPECT_FALSE(Exists("/tmp/" + marker));
    EXPECT_FALSE(Exists("/tmp/x" + marker));
    EXPECT_FALSE(Exists(dir.path() + "/" + marker));
  }
  EXPECT_TRUE(Tree(store.images_dir() + "/.tmp").empty());
}

TEST_F(ImageStoreTest, ReplacesOnlyWhenAskedAndRemoves) {
  TarBuilder one, two;
  one.File("version", "1");
  two.File("version", "2");
  const std::string first = Layout("one", {{kTar, one.Finish()}});
  const std::string second = Layout("two", {{kTar, two.Finish()}});
  ASSERT_TRUE(store.Import(first, Ref("app:v"), false).ok());
  auto again = store.Import(second, Ref("app:v"), false);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("already has app:v"), std::string::npos);
  auto replaced = store.Import(second, Ref("app:v"), true);
  ASSERT_TRUE(replaced.ok()) << replaced.status().message();
  EXPECT_EQ(ReadAll(replaced->rootfs + "/version"), "2");

  // A container using it keeps it.
  WriteAll(store.containers_dir() + "/c1/image", replaced->dir + "\n");
  auto refused = store.Remove(Ref("app:v"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("in use by container c1"), std::string::npos);
  fs::remove_all(store.containers_dir() + "/c1");

  auto removed = store.Remove(Ref("app:v"));
  ASSERT_TRUE(removed.ok() && *removed);
  EXPECT_FALSE(store.Find(Ref("app:v")).value().has_value());
  EXPECT_FALSE(Exists(store.images_dir() + "/app"));
  auto absent = store.Remove(Ref("app:v"));
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(*absent);
}

TEST_F(ImageStoreTest, StaleImportsAreRemoved) {
  // A keelctl killed half-way leaves its temporary dir; its lock is free.
  const std::string stale = store.images_dir() + "/.tmp/0123456789abcdef";
  WriteAll(stale + "/image/rootfs/file", "half");
  WriteAll(stale + ".lock", "");
  TarBuilder layer;
  layer.File("f", "f");
  ASSERT_TRUE(store.Import(Layout("x", {{kTar, layer.Finish()}}), Ref("x"), false).ok());
  EXPECT_TRUE(Tree(store.images_dir() + "/.tmp").empty());
}

// keelctl, as the operator runs it.
std::string Keelctl() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  return fs::path(self).parent_path().parent_path().string() + "/bin/keelctl";
}

struct ShellRun {
  int exit_code;
  std::string output;
};

ShellRun Shell(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), p)) output.append(buffer, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(ImageStoreTest, KeelctlImportsListsAndRemoves) {
  const std::string keelctl = Keelctl();
  if (::access(keelctl.c_str(), X_OK) != 0) GTEST_SKIP() << "no " << keelctl << " (build keelctl)";
  const std::string work = dir.path() + "/agent";
  const std::string tarball = dir.path() + "/busybox.tar";
  const std::string layout = dir.path() + "/layout";
  testing::WriteBusyboxDockerSave(tarball, "busybox:latest", dir.path());
  testing::WriteBusyboxOciLayout(layout, dir.path());
  const std::string flags = " --work_dir=" + work;

  ShellRun imported =
      Shell(keelctl + " image import " + tarball + " --name busybox:latest" + flags);
  EXPECT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find("busybox:latest"), std::string::npos) << imported.output;
  ShellRun layout_import =
      Shell(keelctl + " image import " + layout + " --name=library/bb:2" + flags);
  EXPECT_EQ(layout_import.exit_code, 0) << layout_import.output;
  EXPECT_TRUE(Exists(work + "/modules/oci/images/busybox/latest/rootfs/bin/busybox"));

  ShellRun listed = Shell(keelctl + " image list" + flags);
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("NAME"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("busybox"), std::string::npos) << listed.output;
  EXPECT_NE(listed.output.find("bb"), std::string::npos) << listed.output;
  ShellRun json = Shell(keelctl + " image list --json" + flags);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.output.find("\"name\":\"bb\""), std::string::npos) << json.output;

  ShellRun twice = Shell(keelctl + " image import " + tarball + " --name busybox" + flags);
  EXPECT_EQ(twice.exit_code, 1) << twice.output;
  EXPECT_NE(twice.output.find("--force"), std::string::npos) << twice.output;
  EXPECT_EQ(
      Shell(keelctl + " image import " + tarball + " --name busybox --force" + flags).exit_code, 0);

  const std::string cut = dir.path() + "/cut.tar";
  const std::string whole = ReadAll(tarball);
  WriteAll(cut, whole.substr(0, whole.size() / 2));
  ShellRun corrupt = Shell(keelctl + " image import " + cut + " --name broken" + flags);
  EXPECT_EQ(corrupt.exit_code, 1) << corrupt.output;
  EXPECT_NE(corrupt.output.find(cut), std::string::npos) << corrupt.output;

  EXPECT_EQ(Shell(keelctl + " image import " + tarball + flags).exit_code, 2);  // no --name
  EXPECT_EQ(Shell(keelctl + " image import " + dir.path() + "/nothing --name x" + flags).exit_code,
            4);
  EXPECT_EQ(Shell(keelctl + " image remove bb:2" + flags).exit_code, 0);
  EXPECT_EQ(Shell(keelctl + " image remove bb:2" + flags).exit_code, 4);
  ShellRun after = Shell(keelctl + " image list" + flags);
  EXPECT_EQ(after.output.find("bb "), std::string::npos) << after.output;
}

}  // namespace
}  // namespace keel::modules::oci
