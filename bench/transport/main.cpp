// keel-bench-transport: messages/s and round-trip latency through each
// transport module and through a bare libzmq loop, in one run on one
// machine, so the modules are judged as a ratio of what libzmq alone does.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "bench/transport/measure.hpp"
#include "tests/support/transport_side.hpp"

namespace {

using namespace keel::bench;

struct Figures {
  double rate_64b = 0, rate_4k = 0, p50_us = 0, p99_us = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

template <typename Fn>
double BestOf(int runs, Fn fn) {
  double best = 0;
  for (int i = 0; i < runs; ++i) best = std::max(best, fn());
  return best;
}

int Usage(const char* self, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--quick] [--modules zmq,tcp] [--module_path DIR]\n"
               "Prints a table, then key=value lines (zmq_ratio_64b, tcp_ratio_64b,\n"
               "zmq_p99_us, tcp_p99_us, ...). --quick: a tenth of the messages, one run.\n",
               self);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string module_dir = std::string(KEEL_BUILD_DIR) + "/lib/keel/modules";
  std::vector<std::string> wanted;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string& flag) -> std::string {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      if (i + 1 < argc) return argv[++i];
      std::fprintf(stderr, "%s needs a value\n", flag.c_str());
      std::exit(2);
    };
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--help" || arg == "-h") {
      return Usage(argv[0], 0);
    } else if (arg.rfind("--modules", 0) == 0) {
      std::stringstream list(value("--modules"));
      for (std::string m; std::getline(list, m, ',');) wanted.push_back(m);
    } else if (arg.rfind("--module_path", 0) == 0) {
      module_dir = value("--module_path");
    } else {
      std::fprintf(stderr, "unknown flag '%s'\n", arg.c_str());
      return Usage(argv[0], 2);
    }
  }
  auto available = keel::test::TransportModules(module_dir);
  if (wanted.empty()) wanted = available;

  const int runs = quick ? 1 : 3;
  const size_t small = quick ? 100000 : 1000000, large = quick ? 20000 : 200000;
  const double rate = 10000;
  const auto pacing = std::chrono::milliseconds(quick ? 500 : 2000);

  std::map<std::string, Figures> figures;
  std::vector<std::string> rows = {"bare"};
  {
    Figures& f = figures["bare"];
    f.rate_64b = BestOf(runs, [&] { return BareThroughput(small, 64); });
    f.rate_4k = BestOf(runs, [&] { return BareThroughput(large, 4096); });
    auto rtts = BareRoundTrips(rate, pacing);
    f.p50_us = Percentile(rtts, 0.50);
    f.p99_us = Percentile(rtts, 0.99);
  }
  for (const auto& module : wanted) {
    if (std::find(available.begin(), available.end(), module) == available.end()) {
      std::printf("note: no transport module '%s' in %s; skipped\n", module.c_str(),
                  module_dir.c_str());
      continue;
    }
    Figures& f = figures[module];
    f.rate_64b = BestOf(runs, [&] { return ModuleThroughput(module, module_dir, small, 64); });
    f.rate_4k = BestOf(runs, [&] { return ModuleThroughput(module, module_dir, large, 4096); });
    auto rtts = ModuleRoundTrips(module, module_dir, rate, pacing);
    f.p50_us = Percentile(rtts, 0.50);
    f.p99_us = Percentile(rtts, 0.99);
    rows.push_back(module);
  }

  const Figures& bare = figures["bare"];
  std::printf("%-6s %14s %14s %9s %9s %8s %8s\n", "path", "msgs/s 64B", "msgs/s 4KiB", "ratio 64B",
              "ratio 4K", "p50 us", "p99 us");
  for (const auto& row : rows) {
    const Figures& f = figures[row];
    std::printf("%-6s %14.0f %14.0f %9.2f %9.2f %8.1f %8.1f\n", row.c_str(), f.rate_64b, f.rate_4k,
                f.rate_64b / bare.rate_64b, f.rate_4k / bare.rate_4k, f.p50_us, f.p99_us);
  }
  std::printf("(round trips at %.0f msgs/s of 64 B; rates best of %d)\n", rate, runs);
  std::printf("bare_rate_64b=%.0f\nbare_p99_us=%.1f\n", bare.rate_64b, bare.p99_us);
  for (const auto& row : rows) {
    if (row == "bare") continue;
    const Figures& f = figures[row];
    std::printf(
        "%s_rate_64b=%.0f\n%s_ratio_64b=%.2f\n%s_ratio_4k=%.2f\n%s_p50_us=%.1f\n"
        "%s_p99_us=%.1f\n",
        row.c_str(), f.rate_64b, row.c_str(), f.rate_64b / bare.rate_64b, row.c_str(),
        f.rate_4k / bare.rate_4k, row.c_str(), f.p50_us, row.c_str(), f.p99_us);
  }
  return 0;
}
