// The master under test: the real keel-master binary on free loopback ports,
// and what /proc says of it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/scale/scale.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/subprocess.hpp"

namespace keel::bench {

namespace {

std::atomic<pid_t> g_master{0};

void OnInterrupt(int signal) {
  if (pid_t p = g_master.load(); p > 0) ::kill(p, SIGTERM);
  ::_exit(128 + signal);
}

// The text after `"name":` in a flat JSON object, as a number.
Result<double> JsonNumber(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  auto at = json.find(key);
  if (at == std::string::npos) return Status::Error("no '" + name + "' in " + json.substr(0, 200));
  return std::strtod(json.c_str() + at + key.size(), nullptr);
}

}  // namespace

Result<ProcSample> SampleProcess(pid_t pid) {
  ProcSample s;
  s.when = Clock::now();
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command's closing parenthesis; utime and stime are the
  // 14th and 15th of the line, the 12th and 13th after it.
  auto close = text.rfind(')');
  if (close == std::string::npos) return Status::Error("no /proc/" + std::to_string(pid) + "/stat");
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  s.cpu_seconds = (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_bytes = std::stod(line.substr(6)) * 1024;
  }
  return s;
}

double CoresBetween(const ProcSample& a, const ProcSample& b) {
  const double wall = std::chrono::duration<double>(b.when - a.when).count();
  return wall > 0 ? (b.cpu_seconds - a.cpu_seconds) / wall : 0;
}

struct MasterProcess::Impl {
  test::TempDir work_dir;
  uint16_t port = 0;
  std::unique_ptr<test::Subprocess> process;
};

MasterProcess::MasterProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MasterProcess::~MasterProcess() {
  if (!impl_->process) return;
  impl_->process->Signal(SIGTERM);
  auto status = impl_->process->Wait(std::chrono::seconds(20));
  if (!status) std::fprintf(stderr, "warning: keel-master did not stop within 20 s; killed\n");
  impl_->process.reset();
  g_master = 0;
}

Result<std::unique_ptr<MasterProcess>> MasterProcess::Start(const std::string& bin_dir,
                                                            const std::vector<std::string>& flags) {
  const std::string binary = bin_dir + "/keel-master";
  if (::access(binary.c_str(), X_OK) != 0) {
    return Status::Error("no executable " + binary + " (see --bin_dir)");
  }
  ::signal(SIGINT, OnInterrupt);
  ::signal(SIGTERM, OnInterrupt);
  std::unique_ptr<MasterProcess> master(new MasterProcess(std::make_unique<Impl>()));
  Impl& m = *master->impl_;
  m.port = test::FreePort();
  std::vector<std::string> argv{binary, "--ip=127.0.0.1", "--port=" + std::to_string(m.port),
                                "--work_dir=" + m.work_dir.path()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  m.process = std::make_unique<test::Subprocess>(argv);
  g_master = m.process->pid();
  if (!test::WaitForHttp("127.0.0.1", m.port, "/health", 200, 10000)) {
    return Status::Error("keel-master did not answer /health within 10 s\n" + master->LogTail());
  }
  return master;
}

pid_t MasterProcess::pid() const { return impl_->process->pid(); }
uint16_t MasterProcess::port() const { return impl_->port; }
std::string MasterProcess::http() const { return "127.0.0.1:" + std::to_string(impl_->port); }

Result<std::string> MasterProcess::TransportEndpoint() const {
  auto r = test::HttpRequest("127.0.0.1", impl_->port, "GET", "/master/transport");
  if (r.status != 200) return Status::Error("GET /master/transport: " + std::to_string(r.status));
  const std::string key = "\"endpoint\":\"";
  auto at = r.body.find(key);
  if (at == std::string::npos) return Status::Error("no endpoint in " + r.body);
  auto end = r.body.find('"', at + key.size());
  return r.body.substr(at + key.size(), end - at - key.size());
}

Result<double> MasterProcess::Metric(const std::string& name) const {
  auto r = test::HttpRequest("127.0.0.1", impl_->port, "GET", "/metrics/snapshot");
  if (r.status != 200) return Status::Error("GET /metrics/snapshot: " + std::to_string(r.status));
  return JsonNumber(r.body, name);
}

std::string MasterProcess::LogTail() const {
  const std::string text = impl_->process ? impl_->process->Stderr() : "";
  return "--- keel-master stderr (tail)\n" +
         (text.size() > 3000 ? text.substr(text.size() - 3000) : text);
}

}  // namespace keel::bench
