// Offers: allocation results turned into OFFERS events, and what comes back
// through ACCEPT, DECLINE, rescinds and offer timeouts.
#include <glog/logging.h>

#include <cmath>

#include "kernel/master/master.hpp"
#include "kernel/master/task_validation.hpp"
#include "kernel/protocol/resource_conversion.hpp"

namespace keel::master {

namespace {

constexpr double kDefaultRefuseSeconds = 5.0;
constexpr double kMaxRefuseSeconds = 365.0 * 24 * 3600;

// Mesos's rules: unset, negative or not a number -> 5 s; clamped to a year.
std::chrono::nanoseconds RefuseFor(bool has_filters, const v1::Filters& filters) {
  double seconds = has_filters && filters.has_refuse_seconds() ? filters.refuse_seconds()
                                                               : kDefaultRefuseSeconds;
  if (!std::isfinite(seconds) || seconds < 0) seconds = kDefaultRefuseSeconds;
  seconds = std::min(seconds, kMaxRefuseSeconds);
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

// The role a task's resources are allocated to: the one they name
// (MULTI_ROLE frameworks name it), else the role its offers were made for.
std::string TaskRole(const v1::TaskInfo& task, const std::vector<Offer>& offers) {
  for (const auto& r : task.resources()) {
    if (r.has_allocation_info() && r.allocation_info().has_role()) {
      return r.allocation_info().role();
    }
  }
  return offers.empty() ? std::string() : offers.front().role;
}

}  // namespace

void Master::Allocate() {
  if (agents_.empty() || frameworks_.empty()) return;
  if (allocation_in_flight_) {
    // One step at a time; the events since this one started get the next.
    allocation_again_ = true;
    return;
  }
  allocation_in_flight_ = true;
  std::weak_ptr<Master> self = weak_from_this();
  const auto asked = std::chrono::steady_clock::now();
  allocator_.Allocate([self, posted = allocator_epoch_,
                       asked](std::vector<Allocation> allocations) {
    auto master = self.lock();
    if (!master) return;
    master->allocation_in_flight_ = false;
    master->last_allocation_ms_ =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
    master->MakeOffers(std::move(allocations), posted);
    if (master->allocation_again_) {
      master->allocation_again_ = false;
      master->RequestAllocation();
    }
  });
}

void Master::MakeOffers(std::vector<Allocation> allocations, uint64_t epoch_when_posted) {
  const bool quota_changed = quota_epoch_ > epoch_when_posted;
  if (quota_changed) allocation_again_ = true;
  std::map<std::string, v1::scheduler::Event> events;
  for (Allocation& a : allocations) {
    auto f = frameworks_.find(a.framework);
    auto ag = agents_.find(a.agent);
    // Re-added since: the allocator no longer counts this as given.
    if (ag != agents_.end() && ag->second.allocator_epoch > epoch_when_posted) continue;
    if (quota_changed || f == frameworks_.end() || !f->second.connected() || ag == agents_.end() ||
        !ag->second.reachable || !ag->second.connected) {
      allocator_.RecoverResources(a.framework, a.agent, a.resources, std::nullopt);
      continue;
    }
    Framework& framework = f->second;
    Agent& agent = ag->second;
    const std::string id = NextOfferId();

    auto& event = events[framework.id];
    event.set_type(v1::scheduler::Event::OFFERS);
    v1::Offer* o = event.mutable_offers()->add_offers();
    o->mutable_id()->set_value(id);
    o->mutable_framework_id()->set_value(framework.id);
    o->mutable_agent_id()->set_value(agent.id);
    o->set_hostname(agent.info.hostname());
    auto* url = o->mutable_url();
    url->set_scheme("http");
    url->mutable_address()->set_hostname(agent.info.hostname());
    url->mutable_address()->set_ip(agent.ip);
    url->mutable_address()->set_port(agent.info.port());
    url->set_path("/slave(1)");
    *o->mutable_attributes() = agent.info.attributes();
    const bool multi_role = framework.multi_role();
    protocol::ToProto(a.resources, o->mutable_resources(), multi_role ? a.role : "");
    if (multi_role) o->mutable_allocation_info()->set_role(a.role);

    Offer offer;
    offer.id = id;
    offer.framework_id = framework.id;
    offer.agent_id = agent.id;
    offer.role = a.role;
    offer.resources = std::move(a.resources);
    if (options_.offer_timeout) {
      offer.timeout = std::make_unique<runtime::Timer>(daemon_.io());
      offer.timeout->Start(*options_.offer_timeout, [this, id] {
        RescindOffer(id, true);
        RequestAllocation();
      });
    }
    framework.offers.insert(id);
    agent.offers.insert(id);
    offers_.emplace(id, std::move(offer));
  }
  for (auto& [framework_id, event] : events) Send(frameworks_.at(framework_id), event);
}

std::optional<Offer> Master::TakeOffer(const std::string& offer_id) {
  auto it = offers_.find(offer_id);
  if (it == offers_.end()) return std::nullopt;
  Offer offer = std::move(it->second);
  offers_.erase(it);
  if (offer.timeout) offer.timeout->Cancel();
  if (auto f = frameworks_.find(offer.framework_id); f != frameworks_.end()) {
    f->second.offers.erase(offer_id);
  }
  if (auto a = agents_.find(offer.agent_id); a != agents_.end()) a->second.offers.erase(offer_id);
  return offer;
}

void Master::RescindOffer(const std::string& offer_id, bool tell_framework) {
  auto offer = TakeOffer(offer_id);
  if (!offer) return;
  allocator_.RecoverResources(offer->framework_id, offer->agent_id, offer->resources, std::nullopt);
  auto f = frameworks_.find(offer->framework_id);
  if (tell_framework && f != frameworks_.end() && f->second.connected()) {
    v1::scheduler::Event event;
    event.set_type(v1::scheduler::Event::RESCIND);
    event.mutable_rescind()->mutable_offer_id()->set_value(offer_id);
    Send(f->second, event);
  }
}

void Master::Decline(Framework& framework, const v1::scheduler::Call::Decline& decline) {
  const auto refuse = RefuseFor(decline.has_filters(), decline.filters());
  for (const auto& offer_id : decline.offer_ids()) {
    auto it = offers_.find(offer_id.value());
    if (it == offers_.end() || it->second.framework_id != framework.id) {
      LOG(INFO) << "framework " << framework.id << " declined unknown offer " << offer_id.value();
      continue;
    }
    auto offer = TakeOffer(offer_id.value());
    allocator_.RecoverResources(framework.id, offer->agent_id, offer->resources, refuse);
  }
  RequestAllocation();
}

void Master::Accept(Framework& framework, const v1::scheduler::Call::Accept& accept) {
  std::string error;
  std::string agent_id;
  Resources available;
  std::vector<Offer> taken;
  for (const auto& offer_id : accept.offer_ids()) {
    auto it = offers_.find(offer_id.value());
    if (it == offers_.end()) {
      error = "Offer " + offer_id.value() + " is no longer valid";
      continue;
    }
    if (it->second.framework_id != framework.id) {
      error = "Offer " + offer_id.value() + " was made to another framework";
      continue;
    }
    if (!agent_id.empty() && it->second.agent_id != agent_id) {
      error = "Offers span more than one agent";
    }
    agent_id = it->second.agent_id;
    taken.push_back(std::move(*TakeOffer(offer_id.value())));
    available += taken.back().resources;
  }
  if (accept.offer_ids().empty()) error = "No offers given";
  auto agent = agents_.find(agent_id);
  if (error.empty() && (agent == agents_.end() || !agent->second.reachable)) {
    error = "Agent " + agent_id + " is gone";
  }

  if (!error.empty()) {
    // Nothing runs; every task hears why, and the offers go back unfiltered.
    for (const Offer& offer : taken) {
      allocator_.RecoverResources(framework.id, offer.agent_id, offer.resources, std::nullopt);
    }
    const auto state = framework.partition_aware() ? v1::TASK_DROPPED : v1::TASK_LOST;
    for (const auto& op : accept.operations()) {
      for (const auto& task : op.launch().task_infos()) {
        SendUpdate(framework, MasterStatus(framework, task.task_id(), task.agent_id().value(),
                                           state, v1::TaskStatus::REASON_INVALID_OFFERS, error));
      }
      for (const auto& task : op.launch_group().task_group().tasks()) {
        SendUpdate(framework, MasterStatus(framework, task.task_id(), task.agent_id().value(),
                                           state, v1::TaskStatus::REASON_INVALID_OFFERS, error));
      }
    }
    RequestAllocation();
    return;
  }

  for (const auto& op : accept.operations()) {
    switch (op.type()) {
      case v1::Offer::Operation::LAUNCH:
        for (const auto& task : op.launch().task_infos()) {
          Resources used;
          auto bad = ValidateTask(framework, agent->second, task, available, &used);
          if (!bad && task.has_executor()) {
            bad = ChargeExecutor(framework, agent->second, task.executor(), used, &available);
          }
          if (bad) {
            SendUpdate(framework, MasterStatus(framework, task.task_id(), agent_id, v1::TASK_ERROR,
                                               v1::TaskStatus::REASON_TASK_INVALID, *bad));
            continue;
          }
          available -= used;
          Launch(framework, agent->second, task, TaskRole(task, taken), used);
        }
        break;
      case v1::Offer::Operation::LAUNCH_GROUP: {
        const auto& tasks = op.launch_group().task_group().tasks();
        LaunchGroup(framework, agent->second, op.launch_group(),
                    tasks.empty() ? std::string() : TaskRole(tasks[0], taken), &available);
        break;
      }
      default:
        SendError(framework, "Offer operation " + v1::Offer::Operation::Type_Name(op.type()) +
                                 " is not supported; its resources were left unused");
        break;
    }
  }
  if (!available.empty()) {
    allocator_.RecoverResources(framework.id, agent_id, available,
                                RefuseFor(accept.has_filters(), accept.filters()));
  }
  RequestAllocation();
}

}  // namespace keel::master
