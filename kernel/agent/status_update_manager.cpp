#include "kernel/agent/status_update_manager.hpp"

#include "keel/internal/agent_protocol.pb.h"

#include <vector>

namespace keel::agent {

StatusUpdateManager::StatusUpdateManager(boost::asio::io_context& io, Sender send, Persist persist,
                                         std::chrono::nanoseconds retry_min,
                                         std::chrono::nanoseconds retry_max)
    : io_(io),
      send_(std::move(send)),
      persist_(std::move(persist)),
      retry_min_(retry_min),
      retry_max_(retry_max) {}

StatusUpdateManager::~StatusUpdateManager() = default;

void StatusUpdateManager::Add(const std::string& framework_id, v1::TaskStatus status) {
  Key key{framework_id, status.task_id().value()};
  Stream& stream = streams_[key];
  if (!stream.retry) stream.retry = std::make_unique<runtime::Timer>(io_);
  stream.pending.push_back(std::move(status));
  persist_(key.first, key.second);
  if (stream.pending.size() == 1) {
    stream.backoff = retry_min_;
    SendHead(key, stream);
  }
}

void StatusUpdateManager::SendHead(const Key& key, Stream& stream) {
  if (!connected_ || stream.pending.empty()) return;
  internal::StatusUpdate update;
  update.mutable_framework_id()->set_value(key.first);
  *update.mutable_status() = stream.pending.front();
  // The master learns the newest state now, even while older updates wait
  // for their acknowledgements.
  update.set_latest_state(stream.pending.back().state());
  send_(update);
  stream.retry->Start(stream.backoff, [this, key] {
    auto it = streams_.find(key);
    if (it == streams_.end()) return;
    ++retries_;
    it->second.backoff = std::min(it->second.backoff * 2, retry_max_);
    SendHead(key, it->second);
  });
}

bool StatusUpdateManager::Acknowledge(const std::string& framework_id, const std::string& task_id,
                                      const std::string& uuid) {
  auto it = streams_.find({framework_id, task_id});
  if (it == streams_.end() || it->second.pending.empty() ||
      it->second.pending.front().uuid() != uuid) {
    return false;
  }
  Stream& stream = it->second;
  stream.pending.pop_front();
  stream.retry->Cancel();
  if (stream.pending.empty()) {
    streams_.erase(it);
    persist_(framework_id, task_id);
    return true;
  }
  persist_(framework_id, task_id);
  stream.backoff = retry_min_;
  SendHead(it->first, stream);
  return true;
}

void StatusUpdateManager::SetConnected(bool connected) {
  connected_ = connected;
  for (auto& [key, stream] : streams_) {
    stream.retry->Cancel();
    if (connected) {
      stream.backoff = retry_min_;
      SendHead(key, stream);
    }
  }
}

void StatusUpdateManager::ForgetFramework(const std::string& framework_id) {
  std::vector<Key> forgotten;
  std::erase_if(streams_, [&](const auto& entry) {
    if (entry.first.first != framework_id) return false;
    forgotten.push_back(entry.first);
    return true;
  });
  for (const Key& key : forgotten) persist_(key.first, key.second);
}

void StatusUpdateManager::Restore(const std::string& framework_id,
                                  std::deque<v1::TaskStatus> pending) {
  if (pending.empty()) return;
  Key key{framework_id, pending.front().task_id().value()};
  Stream& stream = streams_[key];
  if (!stream.retry) stream.retry = std::make_unique<runtime::Timer>(io_);
  stream.pending = std::move(pending);
  stream.backoff = retry_min_;
  SendHead(key, stream);
}

const std::deque<v1::TaskStatus>* StatusUpdateManager::Pending(const std::string& framework_id,
                                                               const std::string& task_id) const {
  auto it = streams_.find({framework_id, task_id});
  return it == streams_.end() ? nullptr : &it->second.pending;
}

}  // namespace keel::agent
