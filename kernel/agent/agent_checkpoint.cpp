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

// A record is whole and names what it is about, else it is not used.
bool Complete(const internal::TaskRecord& r) { return r.has_task() && r.has_framework(); }
bool Complete(const internal::ExecutorRecord& r) {
  return r.has_executor() && r.has_framework() && !r.container_id().empty();
}

template <typename Record>
std::map<std::string, Record> ReadRecords(const std::string& dir) {
  std::map<std::string, Record> records;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string path = entry.path().string();
    if (name.ends_with(".tmp")) {
      // A write the agent did not finish: the record before it stands.
      std::filesystem::remove(entry.path(), ec);
      continue;
    }
    if (name.ends_with(".unreadable")) continue;
    bool ok = false;
    Record record;
    const std::string content = ReadWholeFile(path, &ok);
    if (!ok || !record.ParsePartialFromString(content) || !Complete(record)) {
      LOG(ERROR) << "checkpointed record " << path << " cannot be read; moved aside to " << path
                 << ".unreadable";
      std::filesystem::rename(entry.path(), path + ".unreadable", ec);
      continue;
    }
    records.emplace(name, std::move(record));
  }
  return records;
}

void ClearDirectory(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

std::string HostBootId() {
  bool ok = false;
  std::string id = ReadWholeFile("/proc/sys/kernel/random/boot_id", &ok);
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

AgentCheckpoint::AgentCheckpoint(const std::string& work_dir)
    : meta_dir_(work_dir + "/meta"),
      tasks_dir_(work_dir + "/meta/tasks"),
      executors_dir_(work_dir + "/meta/executors") {}

Result<bool> AgentCheckpoint::Open() {
  for (const std::string& dir : {tasks_dir_, executors_dir_}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Error("cannot create " + dir + ": " + ec.message());
  }
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

std::map<std::string, internal::TaskRecord> AgentCheckpoint::ReadTasks() const {
  return ReadRecords<internal::TaskRecord>(tasks_dir_);
}

std::map<std::string, internal::ExecutorRecord> AgentCheckpoint::ReadExecutors() const {
  return ReadRecords<internal::ExecutorRecord>(executors_dir_);
}

Status AgentCheckpoint::Write(const std::string& name, const internal::TaskRecord& record) const {
  return WriteByRename(tasks_dir_ + "/" + name, record.SerializePartialAsString());
}

Status AgentCheckpoint::Write(const std::string& name,
                              const internal::ExecutorRecord& record) const {
  return WriteByRename(executors_dir_ + "/" + name, record.SerializePartialAsString());
}

void AgentCheckpoint::RemoveTask(const std::string& name) const {
  ::unlink((tasks_dir_ + "/" + name).c_str());
}

void AgentCheckpoint::RemoveExecutor(const std::string& name) const {
  ::unlink((executors_dir_ + "/" + name).c_str());
}

void AgentCheckpoint::Clear() const {
  ClearDirectory(tasks_dir_);
  ClearDirectory(executors_dir_);
}

}  // namespace keel::agent
