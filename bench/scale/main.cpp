// keel-bench-scale: a real keel-master under N emulated agents (multiplexed
// over a few zmq transport connections) and M frameworks (scheduler API).
// Phases: the master alone (baseline); N agents register (time to register
// all) and are held while the master pings them (master CPU, RSS per
// agent); M frameworks launch as fast as offers come (launches per second
// acknowledged end to end, offer latency, master CPU, RSS per task kept in
// history). Prints the figures as key=value lines (bench/scale/run.sh makes
// the table).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_util.hpp"
#include "bench/scale/scale.hpp"

namespace {

using namespace keel::bench;

struct Options {
  int agents = 1000;
  int frameworks = 10;
  int connections = 4;
  double hold_seconds = 10;
  double seconds = 10;
  double warmup_seconds = 3;
  std::string ping = "2s";
  int history = 100000;
  int max_in_flight = 16000;
  std::string bin_dir;
};

int Usage(const char* self, int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: %s [--agents=N] [--frameworks=M] [--connections=C] [--seconds=S]\n"
               "          [--hold_seconds=H] [--warmup_seconds=W] [--ping=DURATION]\n"
               "          [--history=K] [--max_in_flight=T] [--bin_dir=DIR]\n"
               "Starts DIR/keel-master (default: this program's directory), registers N\n"
               "emulated agents (default 1000) over C zmq connections (default 4), holds\n"
               "them H s (default 10) with the master pinging every DURATION (default 2s),\n"
               "then runs M frameworks (default 10) launching as fast as offers come for\n"
               "W s of warm-up and S s measured (default 3 and 10). The master keeps K\n"
               "finished tasks per framework (max_completed_tasks_per_framework, default\n"
               "100000, so the history grows through the window). The frameworks wait\n"
               "while T tasks (default 16000) are launched and not yet finished and\n"
               "acknowledged. Prints key=value lines.\n",
               self);
  return code;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "keel-bench-scale: %s\n", what.c_str());
  return 1;
}

void Sleep(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

bool Parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    auto number = [&](double low) {
      char* end = nullptr;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || v < low) {
        throw std::invalid_argument(name + " takes a number of at least " + std::to_string(low));
      }
      return v;
    };
    if (name == "--agents") {
      o->agents = static_cast<int>(number(1));
    } else if (name == "--frameworks") {
      o->frameworks = static_cast<int>(number(1));
    } else if (name == "--connections") {
      o->connections = static_cast<int>(number(1));
    } else if (name == "--seconds") {
      o->seconds = number(0.5);
    } else if (name == "--hold_seconds") {
      o->hold_seconds = number(0);
    } else if (name == "--warmup_seconds") {
      o->warmup_seconds = number(0);
    } else if (name == "--max_in_flight") {
      o->max_in_flight = static_cast<int>(number(1));
    } else if (name == "--history") {
      o->history = static_cast<int>(number(1));
    } else if (name == "--ping" && !value.empty()) {
      o->ping = value;
    } else if (name == "--bin_dir" && !value.empty()) {
      o->bin_dir = value;
    } else {
      return false;
    }
  }
  return true;
}

int Run(const Options& o) {
  auto master = MasterProcess::Start(
      o.bin_dir, {"--agent_ping_timeout=" + o.ping,
                  "--max_completed_tasks_per_framework=" + std::to_string(o.history)});
  if (!master.ok()) return Fail(master.status().message());
  MasterProcess& m = **master;
  auto endpoint = m.TransportEndpoint();
  if (!endpoint.ok()) return Fail(endpoint.status().message());
  Sleep(1);
  auto baseline = SampleProcess(m.pid());
  if (!baseline.ok()) return Fail(baseline.status().message());

  Shared shared(o.agents);
  shared.max_in_flight = static_cast<uint64_t>(o.max_in_flight);
  const std::string module_dir = o.bin_dir + "/../lib/keel/modules";
  std::unique_ptr<AgentFleet> agents;
  try {
    agents = std::make_unique<AgentFleet>(module_dir, *endpoint, o.agents, o.connections, shared);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  const auto reg_start = Clock::now();
  agents->Register();
  if (!agents->WaitRegistered(std::chrono::seconds(600))) {
    return Fail(std::to_string(agents->Counters().registered) + " of " + std::to_string(o.agents) +
                " agents registered within 600 s\n" + m.LogTail());
  }
  const double register_s = std::chrono::duration<double>(Clock::now() - reg_start).count();
  std::fprintf(stderr, "%d agents registered in %.2f s\n", o.agents, register_s);

  // Held: the master pings every agent; no frameworks yet.
  Sleep(1);
  auto hold_a = SampleProcess(m.pid());
  const uint64_t pongs_a = agents->Counters().pongs;
  Sleep(o.hold_seconds);
  auto hold_b = SampleProcess(m.pid());
  const uint64_t pongs_b = agents->Counters().pongs;
  auto active = m.Metric("master/slaves_active");
  auto unreachable = m.Metric("master/slaves_unreachable");
  if (!hold_a.ok() || !hold_b.ok() || !active.ok() || !unreachable.ok()) {
    return Fail("could not read the master's state after the hold\n" + m.LogTail());
  }

  FrameworkFleet frameworks(m.http(), o.frameworks, shared);
  if (!frameworks.Start(std::chrono::seconds(60))) {
    return Fail("not all frameworks subscribed within 60 s\n" + m.LogTail());
  }
  Sleep(o.warmup_seconds);
  // Memory per task is read between two quiet points, every launched task
  // finished and acknowledged (nothing live, only history), around the
  // measured window.
  auto quiet = [&]() -> keel::Result<ProcSample> {
    shared.paused = true;
    bool drained = false;
    for (int i = 0; i < 600 && !drained; ++i) {
      const AgentCounters c = agents->Counters();
      drained = c.acks == c.updates_sent && shared.finished_acked == shared.tasks_launched;
      if (!drained) Sleep(0.05);
    }
    if (!drained) {
      return keel::Status::Error(
          "launched tasks were not all finished and acknowledged 30 s "
          "after launching paused");
    }
    Sleep(0.5);
    return SampleProcess(m.pid());
  };
  auto quiet_a = quiet();
  const uint64_t kept_a = shared.finished_acked;
  shared.paused = false;
  shared.WakeAll();
  shared.measuring = true;
  auto run_a = SampleProcess(m.pid());
  auto gen_a = SampleProcess(::getpid());
  const AgentCounters ca = agents->Counters();
  const uint64_t accepts_a = shared.accepts, offers_a = shared.offers;
  const uint64_t launched_a = shared.tasks_launched;
  Sleep(o.seconds);
  const uint64_t accepts_b = shared.accepts, offers_b = shared.offers;
  const uint64_t launched_b = shared.tasks_launched;
  auto run_b = SampleProcess(m.pid());
  auto gen_b = SampleProcess(::getpid());
  const AgentCounters cb = agents->Counters();
  shared.measuring = false;
  auto quiet_b = quiet();
  const uint64_t kept_b = shared.finished_acked;
  for (const auto* q : {&quiet_a, &quiet_b}) {
    if (!q->ok()) return Fail(q->status().message() + "\n" + m.LogTail());
  }
  if (!run_a.ok() || !run_b.ok() || !gen_a.ok() || !gen_b.ok()) {
    return Fail("the master is gone\n" + m.LogTail());
  }

  // Every update sent must have come back acknowledged.
  frameworks.StopLaunching();
  const AgentCounters end = agents->Counters();
  frameworks.Stop();
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    if (!shared.first_error.empty()) return Fail(shared.first_error + "\n" + m.LogTail());
  }

  const double window = std::chrono::duration<double>(run_b->when - run_a->when).count();
  const double finished = static_cast<double>(cb.finished_acked - ca.finished_acked);
  const double kept_limit = static_cast<double>(o.history) * o.frameworks;
  std::vector<double> latencies;
  {
    std::lock_guard<std::mutex> lock(shared.mu);
    latencies = shared.offer_latency_ms;
  }
  const double per_agent = (hold_b->rss_bytes - baseline->rss_bytes) / o.agents;
  const double kept = static_cast<double>(kept_b - kept_a);
  const double per_task = kept > 0 ? (quiet_b->rss_bytes - quiet_a->rss_bytes) / kept : 0;
  std::printf("agents=%d\nframeworks=%d\nconnections=%d\n", o.agents, o.frameworks, o.connections);
  std::printf("register_s=%.2f\n", register_s);
  std::printf("hold_master_cores=%.3f\n", CoresBetween(*hold_a, *hold_b));
  std::printf("hold_pongs_per_s=%.0f\n",
              static_cast<double>(pongs_b - pongs_a) /
                  std::chrono::duration<double>(hold_b->when - hold_a->when).count());
  std::printf("agents_active=%.0f\nagents_unreachable=%.0f\n", *active, *unreachable);
  std::printf("baseline_rss_mb=%.1f\nagents_rss_mb=%.1f\n", baseline->rss_bytes / 1048576,
              hold_b->rss_bytes / 1048576);
  std::printf("master_bytes_per_agent=%.0f\n", per_agent);
  std::printf("launches_per_s=%.0f\n", finished / window);
  std::printf("run_master_cores=%.3f\n", CoresBetween(*run_a, *run_b));
  std::printf("run_generator_cores=%.3f\n", CoresBetween(*gen_a, *gen_b));
  std::printf("offers_per_s=%.0f\ncalls_per_s=%.0f\ntasks_per_call=%.2f\n",
              static_cast<double>(offers_b - offers_a) / window,
              static_cast<double>(accepts_b - accepts_a) / window,
              static_cast<double>(launched_b - launched_a) /
                  std::max<double>(1, static_cast<double>(accepts_b - accepts_a)));
  std::printf("run_rss_mb=%.1f\n", run_b->rss_bytes / 1048576);
  std::printf("history_tasks=%.0f\n", kept);
  std::printf("master_bytes_per_task=%.0f\n", per_task);
  std::printf("history_full=%d\n", static_cast<double>(kept_b) > kept_limit ? 1 : 0);
  std::printf("offer_samples=%zu\n", latencies.size());
  std::printf("offer_p50_ms=%.2f\noffer_p99_ms=%.2f\n", Percentile(latencies, 0.5),
              Percentile(latencies, 0.99));
  std::printf("tasks_launched=%llu\nrun_tasks=%llu\nacks=%llu\nfinished_acked=%llu\n",
              static_cast<unsigned long long>(shared.tasks_launched.load()),
              static_cast<unsigned long long>(end.run_tasks),
              static_cast<unsigned long long>(end.acks),
              static_cast<unsigned long long>(end.finished_acked));
  std::printf(
      "updates_sent=%llu\nupdates_unacked=%llu\nsend_failures=%llu\n",
      static_cast<unsigned long long>(end.updates_sent),
      static_cast<unsigned long long>(end.updates_sent - std::min(end.acks, end.updates_sent)),
      static_cast<unsigned long long>(end.send_failures));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::error_code ec;
  o.bin_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  try {
    if (!Parse(argc, argv, &o)) return Usage(argv[0], 2);
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return Run(o);
}
