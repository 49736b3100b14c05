// Test support: run a real program, capture its output, send it signals.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keel::test {

class Subprocess {
 public:
  // Starts `argv` with stdout and stderr captured to files in a temp dir.
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();  // kills (SIGKILL) and reaps if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool Signal(int signal);
  // Waits up to `timeout`; the wait status (as from waitpid) or nothing.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool running();
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

// Runs to completion (or kills after `timeout`); returns the exit code, or
// -1 on a timeout or a signal.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
RunResult RunCommand(const std::vector<std::string>& argv,
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A free TCP port on 127.0.0.1 (bound and released; good enough on loopback).
uint16_t FreePort();

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// The build tree's and source tree's paths (from the test's environment).
std::string BuildDir();
std::string SourceDir();

}  // namespace keel::test
