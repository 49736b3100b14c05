// keel-bench-launch: launch-to-exec time and tasks/s of (a) bare fork+exec,
// (b) fork+exec into fresh cgroups, (c) the native containerizer with the
// cgroups and pid isolators, (d) bare `runc run` of a busybox bundle and
// (e) the oci containerizer with the same image, all in one run, so that
// Keel's cost reads as a ratio of the machine's own. Launches run one at a
// time: the figure is the latency of one launch, not a throughput under load.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include "bench/launch/launch_bench.hpp"

namespace {

using namespace keel::bench;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Summary {
  double p50 = 0, p90 = 0, per_s = 0;
};

Summary Summarise(const CaseResult& r) {
  std::vector<double> exec, cycle;
  double total = 0;
  for (const auto& l : r.launches) {
    exec.push_back(l.to_exec_ms);
    total += l.cycle_ms;
  }
  Summary s;
  s.p50 = Percentile(exec, 0.5);
  s.p90 = Percentile(exec, 0.9);
  s.per_s = total > 0 ? 1000.0 * static_cast<double>(r.launches.size()) / total : 0;
  return s;
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return argv[i] + prefix.size();
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::printf(
          "usage: %s [--launches=N] [--module_dir=DIR] [--work=DIR] [--rootfs=DIR] "
          "[--image=NAME:TAG] [--native_isolation=A,B,...]\n"
          "Needs root and cgroups v1 (cpu, memory, pids). --rootfs: a busybox root file\n"
          "system for (d); --image: the same, imported into DIR/agent's oci image store\n"
          "for (e) (bench/launch/run.sh makes both). Prints a table, then key=value lines.\n",
          argv[0]);
      return 0;
    }
  }
  const int launches = std::stoi(Flag(argc, argv, "launches", "200"));
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  const std::string module_dir = Flag(argc, argv, "module_dir", self + "/../lib/keel/modules");
  const std::string work = Flag(argc, argv, "work", "/dev/shm/keel-bench-launch");
  const std::string rootfs = Flag(argc, argv, "rootfs", "");
  const std::string image = Flag(argc, argv, "image", "");
  std::filesystem::create_directories(work);

  std::vector<std::string> isolation;
  std::stringstream names(
      Flag(argc, argv, "native_isolation", "cgroups/cpu,cgroups/mem,cgroups/pids,namespaces/pid"));
  for (std::string name; std::getline(names, name, ',');) {
    if (!name.empty()) isolation.push_back(name);
  }
  // The cases run in interleaved rounds (a, b, c, d, e, a, b, ...), so that
  // what drifts on the machine during the run weighs on every case alike:
  // runc's own start-up varies by several milliseconds from minute to minute.
  std::vector<std::function<CaseResult(int)>> cases = {
      [&](int n) { return BareForkExec(work, n); },
      [&](int n) { return ForkExecIntoCgroups(work, n); },
      [&](int n) { return NativeContainerizer(module_dir, work, isolation, n); },
  };
  if (!rootfs.empty()) cases.push_back([&](int n) { return BareRunc(rootfs, work, n); });
  if (!rootfs.empty() && !image.empty()) {
    cases.push_back([&](int n) { return OciContainerizer(module_dir, work, image, n); });
  }
  const int rounds = std::max(1, std::min(launches, 10));
  std::vector<CaseResult> results(cases.size());
  for (int r = 0; r < rounds; ++r) {
    const int n = launches / rounds + (r < launches % rounds ? 1 : 0);
    for (size_t c = 0; c < cases.size(); ++c) {
      CaseResult more = cases[c](n);
      CaseResult& into = results[c];
      if (into.name.empty()) into.name = more.name;
      if (into.error.empty()) into.error = more.error;
      into.launches.insert(into.launches.end(), more.launches.begin(), more.launches.end());
    }
  }

  UnloadContainerizers();

  const char* labels[] = {"(a) bare fork+exec", "(b) fork+exec into cgroups",
                          "(c) native + cgroups,pid isolators", "(d) bare runc run",
                          "(e) oci containerizer"};
  std::printf("%-36s %8s %12s %12s %10s\n", "case", "launches", "exec_p50_ms", "exec_p90_ms",
              "tasks/s");
  std::vector<Summary> summaries;
  bool failed = false;
  for (size_t i = 0; i < results.size(); ++i) {
    const CaseResult& r = results[i];
    summaries.push_back(Summarise(r));
    if (!r.error.empty()) {
      std::printf("%-36s failed: %s\n", labels[i], r.error.c_str());
      failed = true;
      continue;
    }
    std::printf("%-36s %8zu %12.2f %12.2f %10.1f\n", labels[i], r.launches.size(), summaries[i].p50,
                summaries[i].p90, summaries[i].per_s);
  }
  auto ratio = [&](size_t of, size_t over) {
    if (of >= summaries.size() || over >= summaries.size() || summaries[over].p50 == 0) return 0.0;
    return summaries[of].p50 / summaries[over].p50;
  };
  std::printf("\nnative_over_cgroup_floor=%.2f\n", ratio(2, 1));
  if (summaries.size() > 4) std::printf("oci_over_runc=%.2f\n", ratio(4, 3));
  std::printf("native_launch_p50_ms=%.2f\n", summaries.size() > 2 ? summaries[2].p50 : 0.0);
  std::printf("cgroup_floor_launch_p50_ms=%.2f\n", summaries[1].p50);
  std::printf("bare_launch_p50_ms=%.2f\n", summaries[0].p50);
  if (summaries.size() > 4) {
    std::printf("runc_launch_p50_ms=%.2f\noci_launch_p50_ms=%.2f\n", summaries[3].p50,
                summaries[4].p50);
  }
  std::filesystem::remove_all(work, ec);
  return failed ? 1 : 0;
}
