#include "modules/containerizer/native/container_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::modules {
namespace {

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whole or not at all, without fsync (see the header).
Status WriteByRename(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error("cannot create " + temp + ": " + std::strerror(errno));
  const ssize_t written = ::write(fd, content.data(), content.size());
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(content.size())) {
    return Status::Error("cannot write " + temp + ": " + std::strerror(write_errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Status::Error("cannot rename " + temp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Status ContainerRecords::Init() {
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return Status::Error("cannot create " + root_ + ": " + ec.message());
  return Status::Ok();
}

Status ContainerRecords::Create(const std::string& id) const {
  const std::string dir = DirOf(id);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Error("cannot create " + dir + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status ContainerRecords::WriteInit(const std::string& id, const InitProcess& init) const {
  return WriteByRename(DirOf(id) + "/init",
                       std::to_string(init.pid) + " " + std::to_string(init.start_time) + "\n");
}

std::optional<InitProcess> ContainerRecords::ReadInit(const std::string& id) const {
  std::istringstream text(ReadSmallFile(DirOf(id) + "/init"));
  InitProcess init;
  if (!(text >> init.pid >> init.start_time) || init.pid <= 0) return std::nullopt;
  return init;
}

std::optional<int> ContainerRecords::ReadExitStatus(const std::string& id) const {
  std::istringstream text(ReadSmallFile(DirOf(id) + "/exit_status"));
  int status = 0;
  if (!(text >> status)) return std::nullopt;
  return status;
}

void ContainerRecords::Remove(const std::string& id) const {
  std::error_code ec;
  std::filesystem::remove_all(DirOf(id), ec);
}

std::vector<std::string> ContainerRecords::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
    if (entry.is_directory(ec)) ids.push_back(entry.path().filename().string());
  }
  return ids;
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  const std::string stat = ReadSmallFile("/proc/" + std::to_string(pid) + "/stat");
  // The command name, in parentheses, may hold spaces and parentheses: the
  // fields are counted from the last ')'. Start time is field 22.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  uint64_t start = 0;
  if (!(fields >> start)) return std::nullopt;
  return start;
}

int OpenIfRunning(const InitProcess& init) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, init.pid, 0));
  if (pidfd < 0) return -1;
  // Checked after the pidfd is held, so the process it names is the one
  // whose start time was read.
  if (ProcessStartTime(init.pid) != init.start_time) {
    ::close(pidfd);
    return -1;
  }
  return pidfd;
}

std::string FindContainerInit() {
  constexpr const char* kInitName = "keel-container-init";
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const std::filesystem::path dir = exe.parent_path();
  for (const auto& candidate : {dir / kInitName, dir / ".." / "libexec" / "keel" / kInitName,
                                dir / ".." / "bin" / kInitName}) {
    if (::access(candidate.c_str(), X_OK) == 0) {
      return std::filesystem::weakly_canonical(candidate, ec).string();
    }
  }
  return "";
}

}  // namespace keel::modules
