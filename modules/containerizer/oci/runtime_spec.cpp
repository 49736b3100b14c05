#include "modules/containerizer/oci/runtime_spec.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "modules/containerizer/oci/rooted_files.hpp"
#include "modules/containerizer/oci/json.hpp"

namespace keel::modules::oci {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Docker's default capabilities: what images expect of root in a container.
const std::vector<std::string>& Capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE"};
  return caps;
}

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0, gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

std::vector<std::string> SplitBy(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::string current;
  for (char c : line) {
    if (c == sep) {
      fields.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  fields.push_back(current);
  return fields;
}

std::optional<uint32_t> Number(const std::string& text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != text.npos) {
    return std::nullopt;
  }
  const unsigned long long value = std::stoull(text);
  if (value > 0xffffffffULL) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// The image's account files, read inside its rootfs (its symlinks stay in it).
class ImageAccounts {
 public:
  explicit ImageAccounts(const std::string& rootfs) {
    Fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) return;
    if (Result<std::string> text = ReadFileInRoot(root.get(), "/etc/passwd"); text.ok()) {
      std::istringstream lines(*text);
      std::string line;
      while (std::getline(lines, line)) {
        auto f = SplitBy(line, ':');
        if (f.size() < 7) continue;
        auto uid = Number(f[2]), gid = Number(f[3]);
        if (uid && gid) passwd_.push_back({f[0], *uid, *gid, f[5]});
      }
    }
    if (Result<std::string> text = ReadFileInRoot(root.get(), "/etc/group"); text.ok()) {
      std::istringstream lines(*text);
      std::string line;
      while (std::getline(lines, line)) {
        auto f = SplitBy(line, ':');
        if (f.size() < 4) continue;
        auto gid = Number(f[2]);
        if (!gid) continue;
        GroupEntry g{f[0], *gid, {}};
        if (!f[3].empty()) g.members = SplitBy(f[3], ',');
        groups_.push_back(std::move(g));
      }
    }
  }

  const PasswdEntry* User(const std::string& name_or_uid) const {
    auto uid = Number(name_or_uid);
    for (const auto& p : passwd_) {
      if (uid ? p.uid == *uid : p.name == name_or_uid) return &p;
    }
    return nullptr;
  }
  const GroupEntry* Group(const std::string& name_or_gid) const {
    auto gid = Number(name_or_gid);
    for (const auto& g : groups_) {
      if (gid ? g.gid == *gid : g.name == name_or_gid) return &g;
    }
    return nullptr;
  }
  std::vector<uint32_t> GroupsOf(const std::string& user, uint32_t primary) const {
    std::vector<uint32_t> gids;
    for (const auto& g : groups_) {
      if (g.gid != primary &&
          std::find(g.members.begin(), g.members.end(), user) != g.members.end())
        gids.push_back(g.gid);
    }
    return gids;
  }

 private:
  std::vector<PasswdEntry> passwd_;
  std::vector<GroupEntry> groups_;
};

Status ResolveUser(const std::string& spec, const StoredImage& image, ProcessSpec* process,
                   std::string* home) {
  *home = "/root";
  if (spec.empty()) return Status::Ok();  // root
  ImageAccounts accounts(image.rootfs);
  const size_t colon = spec.find(':');
  const std::string user = spec.substr(0, colon);
  const PasswdEntry* entry = accounts.User(user);
  if (entry != nullptr) {
    process->uid = entry->uid;
    process->gid = entry->gid;
    *home = entry->home.empty() ? "/" : entry->home;
    if (colon == std::string::npos)
      process->additional_gids = accounts.GroupsOf(entry->name, entry->gid);
  } else if (auto uid = Number(user)) {
    process->uid = *uid;
    process->gid = 0;
    *home = "/";
  } else {
    return Status::Error("user '" + user + "' is not in the image's /etc/passwd (image " +
                         image.reference.ToString() + ")");
  }
  if (colon != std::string::npos) {
    const std::string group = spec.substr(colon + 1);
    if (const GroupEntry* g = accounts.Group(group)) {
      process->gid = g->gid;
    } else if (auto gid = Number(group)) {
      process->gid = *gid;
    } else {
      return Status::Error("group '" + group + "' is not in the image's /etc/group (image " +
                           image.reference.ToString() + ")");
    }
  }
  return Status::Ok();
}

void Mount(JsonOut& out, const std::string& destination, const std::string& type,
           const std::string& source, const std::vector<std::string>& options) {
  out.BeginObject()
      .Key("destination")
      .String(destination)
      .Key("type")
      .String(type)
      .Key("source")
      .String(source)
      .Key("options")
      .Strings(options)
      .EndObject();
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

double CpusOf(const ContainerLaunch& launch) {
  return launch.config.resources.GetScalar("cpus").value();
}

uint64_t MemoryLimitBytes(const ContainerLaunch& launch) {
  const double mb = launch.config.resources.GetScalar("mem").value();
  if (mb <= 0) return 0;
  return static_cast<uint64_t>(std::llround(mb * 1024 * 1024));
}

Result<ProcessSpec> BuildProcess(const ContainerLaunch& launch, const StoredImage& image) {
  ProcessSpec process;
  const CommandSpec& command = launch.command;
  const ImageConfig& config = image.config;
  if (!command.value.empty() && command.shell) {
    process.args = {"/bin/sh", "-c", command.value};
  } else if (!command.value.empty()) {
    // As in native: `arguments` is the whole argv, argv[0] included; runc
    // runs args[0], so the executable takes argv[0]'s place.
    process.args = {command.value};
    for (size_t i = 1; i < command.arguments.size(); ++i)
      process.args.push_back(command.arguments[i]);
  } else {
    process.args = config.entrypoint;
    const std::vector<std::string>& rest =
        command.arguments.empty() ? config.cmd : command.arguments;
    process.args.insert(process.args.end(), rest.begin(), rest.end());
    if (process.args.empty()) {
      return Status::Error("nothing to run: the task has no command and the image " +
                           image.reference.ToString() + " has neither Entrypoint nor Cmd");
    }
  }

  std::string user = command.user;
  if (user.empty()) user = launch.config.user;
  if (user.empty()) user = config.user;
  std::string home;
  if (Status s = ResolveUser(user, image, &process, &home); !s.ok()) return s;

  // The image's environment in its order, then the task's over it.
  std::vector<std::pair<std::string, std::string>> env;
  std::map<std::string, size_t> position;
  auto set = [&](const std::string& name, const std::string& value) {
    auto it = position.find(name);
    if (it != position.end()) {
      env[it->second].second = value;
    } else {
      position[name] = env.size();
      env.emplace_back(name, value);
    }
  };
  for (const std::string& entry : config.env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    set(entry.substr(0, eq), entry.substr(eq + 1));
  }
  for (const auto& [name, value] : command.environment) set(name, value);
  // The agent set these to the sandbox's path on the host.
  set("MESOS_SANDBOX", kContainerSandbox);
  set("KEEL_SANDBOX", kContainerSandbox);
  if (!position.count("PATH")) set("PATH", kDefaultPath);
  if (!position.count("HOME")) set("HOME", home);
  for (const auto& [name, value] : env) process.env.push_back(name + "=" + value);

  process.cwd = config.working_dir.empty() ? kContainerSandbox : config.working_dir;
  if (process.cwd[0] != '/') process.cwd = "/" + process.cwd;
  return process;
}

std::string RuntimeConfigJson(const ProcessSpec& process, const ContainerLaunch& launch,
                              const RuntimeOptions& options) {
  JsonOut out;
  out.BeginObject().Key("ociVersion").String("1.0.2");

  out.Key("process").BeginObject();
  out.Key("terminal").Bool(false);
  out.Key("user").BeginObject().Key("uid").Uint(process.uid).Key("gid").Uint(process.gid);
  if (!process.additional_gids.empty()) {
    out.Key("additionalGids").BeginArray();
    for (uint32_t gid : process.additional_gids) out.Uint(gid);
    out.EndArray();
  }
  out.EndObject();
  out.Key("args").Strings(process.args);
  out.Key("env").Strings(process.env);
  out.Key("cwd").String(process.cwd);
  out.Key("capabilities").BeginObject();
  for (const char* set : {"bounding", "effective", "permitted"}) {
    out.Key(set).Strings(Capabilities());
  }
  out.EndObject();
  out.Key("noNewPrivileges").Bool(false);
  out.EndObject();

  out.Key("root")
      .BeginObject()
      .Key("path")
      .String(options.rootfs)
      .Key("readonly")
      .Bool(options.readonly_rootfs)
      .EndObject();

  out.Key("mounts").BeginArray();
  Mount(out, "/proc", "proc", "proc", {"nosuid", "noexec", "nodev"});
  Mount(out, "/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  Mount(out, "/dev/pts", "devpts", "devpts",
        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  Mount(out, "/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"});
  Mount(out, "/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  Mount(out, "/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
  Mount(out, "/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"});
  if (options.readonly_rootfs) {
    Mount(out, "/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "mode=1777"});
  }
  // The host's name resolution: the task shares the host's network.
  for (const char* file : {"/etc/resolv.conf", "/etc/hosts"}) {
    if (IsFile(file)) Mount(out, file, "bind", file, {"rbind", "ro", "nosuid", "nodev"});
  }
  Mount(out, kContainerSandbox, "bind", launch.config.sandbox_dir, {"rbind", "rw"});
  out.EndArray();

  out.Key("linux").BeginObject();
  out.Key("namespaces").BeginArray();
  for (const char* ns : {"pid", "ipc", "uts", "mount"}) {
    out.BeginObject().Key("type").String(ns).EndObject();
  }
  out.EndArray();
  out.Key("cgroupsPath").String(options.cgroups_path);
  out.Key("resources").BeginObject();
  out.Key("devices")
      .BeginArray()
      .BeginObject()
      .Key("allow")
      .Bool(false)
      .Key("access")
      .String("rwm")
      .EndObject()
      .EndArray();
  if (const uint64_t limit = MemoryLimitBytes(launch); limit > 0) {
    out.Key("memory").BeginObject().Key("limit").Uint(limit).EndObject();
  }
  if (const double cpus = CpusOf(launch); cpus > 0) {
    out.Key("cpu").BeginObject();
    out.Key("shares").Uint(std::max<uint64_t>(2, static_cast<uint64_t>(std::llround(cpus * 1024))));
    if (options.cfs_quota) {
      constexpr uint64_t kPeriod = 100000;  // 100 ms, as Mesos
      out.Key("period").Uint(kPeriod);
      out.Key("quota").Int(std::max<int64_t>(1000, std::llround(cpus * kPeriod)));
    }
    out.EndObject();
  }
  if (options.max_pids > 0) {
    out.Key("pids").BeginObject().Key("limit").Int(options.max_pids).EndObject();
  }
  out.EndObject();  // resources
  out.Key("maskedPaths")
      .Strings({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                "/proc/scsi"});
  out.Key("readonlyPaths")
      .Strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  out.EndObject();  // linux

  out.EndObject();
  return out.text() + "\n";
}

}  // namespace keel::modules::oci
