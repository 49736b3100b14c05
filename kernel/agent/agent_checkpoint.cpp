#include "kernel/agent/agent_checkpoint.hpp"

#include <fcntl.h>
#include <glog/logging.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::agent {
namespace {

std::string ReadWholeFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// See the header for why there is no fsync.
Status WriteByRename(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Error("cannot create " + temp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status error = Status::Error("cannot write " + temp + ": " + std::strerror(errno));
      ::close(fd);
      return error;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return Status::Error("cannot rename " + temp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

std::string HostBootId() {
  bool ok = false;
  std::string id = ReadWholeFile("/proc/sys/kernel/random/boot_id", &ok);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

AgentCheckpoint::AgentCheckpoint(const std::string& work_dir)
    : meta_dir_(work_dir + "/meta"), tasks_dir_(work_dir + "/meta/tasks") {}

Result<bool> AgentCheckpoint::Open() {
  std::error_code ec;
  std::filesystem::create_directories(tasks_dir_, ec);
  if (ec) return Status::Error("cannot create " + tasks_dir_ + ": " + ec.message());
  const std::string boot_file = meta_dir_ + "/boot_id";
  bool had = false;
  const std::string recorded = ReadWholeFile(boot_file, &had);
  const std::string now = HostBootId();
  const bool same_boot = !had || recorded == now + "\n";
  if (!same_boot) Clear();
  if (!had || !same_boot) {
    if (Status s = WriteByRename(boot_file, now + "\n"); !s.ok()) return s;
  }
  return same_boot;
}

std::map<std::string, internal::TaskRecord> AgentCheckpoint::ReadAll() const {
  std::map<std::string, internal::TaskRecord> records;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tasks_dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string path = entry.path().string();
    if (name.ends_with(".tmp")) {
      // A write the agent did not finish: the record before it stands.
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (name.ends_with(".unreadable")) continue;
    bool ok = false;
    internal::TaskRecord record;
    const std::string content = ReadWholeFile(path, &ok);
    if (!ok || !record.ParsePartialFromString(content) || !record.has_task() ||
        !record.has_framework()) {
      LOG(ERROR) << "checkpointed task record " << path << " cannot be read; moved aside to "
                 << path << ".unreadable";
      std::filesystem::rename(entry.path(), path + ".unreadable", ec);
      continue;
    }
    records.emplace(name, std::move(record));
  }
  return records;
}

Status AgentCheckpoint::Write(const std::string& name, const internal::TaskRecord& record) const {
  return WriteByRename(tasks_dir_ + "/" + name, record.SerializePartialAsString());
}

void AgentCheckpoint::Remove(const std::string& name) const {
  ::unlink((tasks_dir_ + "/" + name).c_str());
}

void AgentCheckpoint::Clear() const {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tasks_dir_, ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace keel::agent
