// The emulated agents: each registers, answers pings, and answers RunTask
// with TASK_RUNNING and TASK_FINISHED at once, on its own channel of one of
// a few connections of the real zmq transport module (loaded by the
// kernel's loader, as a daemon loads it). All of them live on the
// transport's one core thread.
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bench/common/bench_util.hpp"
#include "bench/scale/scale.hpp"
#include "keel/internal/agent_protocol.pb.h"
#include "kernel/protocol/protocol_message.hpp"
#include "tests/support/transport_side.hpp"

namespace keel::bench {

namespace {

using protocol::Pack;
using protocol::TypeOf;

// A status update's uuid: 16 bytes, the first says whether it is the
// task's terminal update.
std::string Uuid(bool terminal, uint64_t serial) {
  std::string uuid(16, '\0');
  uuid[0] = terminal ? 'F' : 'R';
  std::memcpy(uuid.data() + 8, &serial, sizeof(serial));
  return uuid;
}

}  // namespace

struct AgentFleet::Impl {
  Impl(int agents, Shared& s) : count(agents), shared(s), registered(static_cast<size_t>(agents)) {}

  // One transport instance a connection (the module dials an endpoint
  // once), each with its own core thread; agent i lives on connection
  // i % connections, and only that connection's core touches it.
  std::vector<std::unique_ptr<test::TransportSide>> sides;
  std::vector<PeerId> peers;  // the master, as each side knows it
  const int count;
  Shared& shared;
  std::vector<char> registered;  // per agent, its side's core
  std::atomic<uint64_t> serial{0};
  std::mutex mu;  // guards counters
  std::condition_variable changed;
  AgentCounters counters;

  // On agent `index`'s side's core: sends `m` from it.
  template <typename M>
  void SendFrom(int index, const M& m) {
    internal::ChannelMessage wrapped;
    wrapped.set_channel("a" + std::to_string(index));
    TransportMessage inner = Pack(m);
    wrapped.set_type(std::move(inner.type));
    wrapped.set_version(inner.version);
    wrapped.set_payload(std::move(inner.payload));
    const size_t c = static_cast<size_t>(index) % sides.size();
    if (!sides[c]->transport().Send(peers[c], Pack(wrapped)).ok()) {
      std::lock_guard<std::mutex> lock(mu);
      ++counters.send_failures;
    }
  }

  void OnMessage(TransportMessage& m);
  void OnRunTask(int index, const internal::RunTask& run);
};

void AgentFleet::Impl::OnRunTask(int index, const internal::RunTask& run) {
  for (v1::TaskState state : {v1::TASK_RUNNING, v1::TASK_FINISHED}) {
    const bool terminal = state == v1::TASK_FINISHED;
    internal::StatusUpdate update;
    *update.mutable_framework_id() = run.framework().id();
    v1::TaskStatus* status = update.mutable_status();
    *status->mutable_task_id() = run.task().task_id();
    status->set_state(state);
    status->set_source(v1::TaskStatus::SOURCE_EXECUTOR);
    *status->mutable_agent_id() = run.task().agent_id();
    status->set_timestamp(static_cast<double>(NowNs()) / 1e9);
    status->set_uuid(Uuid(terminal, serial++));
    update.set_latest_state(v1::TASK_FINISHED);
    if (terminal) {
      int64_t none = 0;
      shared.freed_ns[static_cast<size_t>(index)].compare_exchange_strong(none, NowNs());
    }
    SendFrom(index, update);
  }
  std::lock_guard<std::mutex> lock(mu);
  ++counters.run_tasks;
  counters.updates_sent += 2;
}

void AgentFleet::Impl::OnMessage(TransportMessage& m) {
  internal::ChannelMessage wrapped;
  int index = -1;
  if (m.type == TypeOf<internal::ChannelMessage>() && wrapped.ParseFromString(m.payload) &&
      wrapped.channel().size() > 1 && wrapped.channel()[0] == 'a') {
    index = std::atoi(wrapped.channel().c_str() + 1);
  }
  if (index < 0 || index >= count) {
    std::lock_guard<std::mutex> lock(mu);
    ++counters.unexpected;
    return;
  }
  const std::string& type = wrapped.type();
  const std::string& payload = wrapped.payload();
  if (type == TypeOf<internal::PingAgent>()) {
    SendFrom(index, internal::PongAgent());
    std::lock_guard<std::mutex> lock(mu);
    ++counters.pongs;
  } else if (type == TypeOf<internal::RunTask>()) {
    internal::RunTask run;
    if (run.ParseFromString(payload)) OnRunTask(index, run);
  } else if (type == TypeOf<internal::StatusUpdateAcknowledgement>()) {
    internal::StatusUpdateAcknowledgement ack;
    const bool terminal =
        ack.ParseFromString(payload) && !ack.uuid().empty() && ack.uuid()[0] == 'F';
    std::lock_guard<std::mutex> lock(mu);
    ++counters.acks;
    if (terminal) {
      ++counters.finished_acked;
      shared.finished_acked++;
      shared.WakeIfRoom();
    }
  } else if (type == TypeOf<internal::AgentRegistered>()) {
    if (registered[static_cast<size_t>(index)]) return;
    registered[static_cast<size_t>(index)] = 1;
    std::lock_guard<std::mutex> lock(mu);
    if (++counters.registered == static_cast<uint64_t>(count)) changed.notify_all();
  } else {
    std::lock_guard<std::mutex> lock(mu);
    ++counters.unexpected;
  }
}

AgentFleet::AgentFleet(const std::string& module_dir, const std::string& endpoint, int agents,
                       int connections, Shared& shared)
    : impl_(std::make_unique<Impl>(agents, shared)) {
  Impl& f = *impl_;
  for (int c = 0; c < connections; ++c) {
    // Deep queues: a connection carries thousands of agents' messages.
    auto side = std::make_unique<test::TransportSide>("zmq", module_dir,
                                                      R"({"send_queue_limit": 1000000})");
    side->recorder().on_message = [&f](const PeerId&, TransportMessage& m) { f.OnMessage(m); };
    auto id = side->OnCore([&] { return side->transport().Connect(endpoint); });
    if (!id.ok()) throw std::runtime_error("connect " + endpoint + ": " + id.status().message());
    f.peers.push_back(*id);
    f.sides.push_back(std::move(side));
  }
  for (auto& side : f.sides) {
    auto& r = side->recorder();
    if (!r.WaitFor([&] { return !r.connected_.empty(); }, std::chrono::seconds(20))) {
      throw std::runtime_error("a transport connection to " + endpoint + " did not come up");
    }
  }
}

AgentFleet::~AgentFleet() = default;

void AgentFleet::Register() {
  Impl& f = *impl_;
  // In slices, so that the answers are read while the rest go out.
  constexpr int kSlice = 500;
  const int sides = static_cast<int>(f.sides.size());
  for (int from = 0; from < f.count; from += kSlice) {
    for (int c = 0; c < sides; ++c) {
      f.sides[static_cast<size_t>(c)]->Post([&f, from, c, sides] {
        for (int i = from; i < std::min(f.count, from + kSlice); ++i) {
          if (i % sides != c) continue;
          internal::RegisterAgent reg;
          v1::AgentInfo* info = reg.mutable_agent_info();
          info->set_hostname("scale-" + std::to_string(i));
          info->set_port(5051);
          *info->add_resources() = Scalar("cpus", kAgentCpus);
          *info->add_resources() = Scalar("mem", kAgentMem);
          reg.set_version("keel-bench-scale");
          reg.set_ip("127.0.0.1");
          f.SendFrom(i, reg);
        }
      });
    }
  }
}

bool AgentFleet::WaitRegistered(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return impl_->counters.registered == static_cast<uint64_t>(impl_->count);
  });
}

AgentCounters AgentFleet::Counters() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counters;
}

}  // namespace keel::bench
