// keel-bench-e2e: no-op tasks through the whole path (scheduler API, master,
// allocator, agent, containerizer, status updates) on one agent, against a
// bare fork+exec loop of the same command in the same run, so Keel's cost
// per task is read as a ratio of what the machine does without it.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/common/bench_util.hpp"
#include "bench/e2e/e2e.hpp"

namespace {

using namespace keel::bench;

int Usage(const char* self, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--quick] [--tasks=N] [--bin_dir=DIR] [--work_root=DIR]\n"
               "          [--isolation=posix/usage]\n"
               "Runs N no-op tasks (default 2000; --quick: 300) through a keel-master and\n"
               "keel-agent started from DIR (default: this program's directory), and the\n"
               "same command in a bare fork+exec loop. Prints a table, then key=value lines\n"
               "(tasks_per_s, bare_per_s, ratio, accept_to_running_p50_ms, ..._p99_ms).\n"
               "The daemons' work dirs (the agent's sandboxes) go under --work_root,\n"
               "default /dev/shm when it exists, else $TMPDIR or /tmp. --isolation: the\n"
               "agent's isolators (default posix/usage, no cgroups, like the bare loop;\n"
               "e.g. cgroups/cpu,cgroups/mem,cgroups/pids).\n",
               self);
  return code;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "keel-bench-e2e: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int tasks = 0;
  bool quick = false;
  std::error_code ec;
  std::string bin_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  // The bare loop makes no files; the agent makes a sandbox per task. On a
  // tmpfs that costs what the kernel needs, not what a disk's file system's
  // inode allocator needs (see README.md for both).
  std::string work_root = std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : "";
  // Like the bare loop it is compared with, no cgroups by default: the figure
  // is the scheduling path's cost (bench/launch measures isolation's).
  std::string isolation = "posix/usage";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--help" || arg == "-h") {
      return Usage(argv[0], 0);
    } else if (arg.rfind("--tasks=", 0) == 0) {
      tasks = std::atoi(arg.c_str() + 8);
      if (tasks <= 0) return Usage(argv[0], 2);
    } else if (arg.rfind("--bin_dir=", 0) == 0) {
      bin_dir = arg.substr(10);
    } else if (arg.rfind("--work_root=", 0) == 0) {
      work_root = arg.substr(12);
    } else if (arg.rfind("--isolation=", 0) == 0) {
      isolation = arg.substr(12);
    } else {
      std::fprintf(stderr, "unknown flag '%s'\n", arg.c_str());
      return Usage(argv[0], 2);
    }
  }
  if (tasks == 0) tasks = quick ? 300 : 2000;
  // The daemons' temp work dirs are made under $TMPDIR.
  if (!work_root.empty()) ::setenv("TMPDIR", work_root.c_str(), 1);
  const int concurrency = std::min(tasks, kTasksAtOnce);

  // The baseline runs first, alone, so the daemons do not compete with it.
  auto bare = BareForkExec(tasks, concurrency);
  if (!bare.ok()) return Fail("bare loop: " + bare.status().message());

  auto started = Cluster::Start(bin_dir, isolation);
  if (!started.ok()) return Fail(started.status().message());
  std::unique_ptr<Cluster> cluster = std::move(started).value();
  auto run = RunTasks(cluster->master(), tasks);
  if (!run.ok()) return Fail(run.status().message() + "\n" + cluster->LogTails());
  cluster.reset();  // stops the daemons; a failed return above does it too

  const double bare_per_s = tasks / *bare;
  const double keel_per_s = tasks / run->seconds;
  const double p50 = Percentile(run->accept_to_running_ms, 0.50);
  const double p99 = Percentile(run->accept_to_running_ms, 0.99);
  std::printf("%-22s %6s %9s %9s %6s %8s %8s\n", "path", "tasks", "seconds", "tasks/s", "ratio",
              "p50 ms", "p99 ms");
  std::printf("%-22s %6d %9.3f %9.0f %6.2f %8s %8s\n", "bare fork+exec", tasks, *bare, bare_per_s,
              1.0, "-", "-");
  std::printf("%-22s %6d %9.3f %9.0f %6.2f %8.2f %8.2f\n", "keel master+agent", tasks, run->seconds,
              keel_per_s, keel_per_s / bare_per_s, p50, p99);
  std::printf(
      "(command '/bin/sh -c %s'; bare: up to %d at once; keel: %d offers, %d accepts;\n"
      " keel seconds: first ACCEPT to last TASK_FINISHED; p50/p99: ACCEPT to RUNNING)\n",
      kCommand, concurrency, run->offers, run->accepts);
  std::printf("(daemons' work dirs, the agent's sandboxes included, under %s)\n",
              std::filesystem::temp_directory_path().c_str());
  std::printf("target ratio >= 0.50: %s; target p50 < 5 ms: %s\n",
              keel_per_s / bare_per_s >= 0.5 ? "met" : "MISSED", p50 < 5 ? "met" : "MISSED");
  std::printf(
      "tasks_per_s=%.0f\nbare_per_s=%.0f\nratio=%.2f\naccept_to_running_p50_ms=%.2f\n"
      "accept_to_running_p99_ms=%.2f\n",
      keel_per_s, bare_per_s, keel_per_s / bare_per_s, p50, p99);
  return 0;
}
