#include "kernel/protocol/resource_conversion.hpp"

#include <cmath>

#include "keel/v1/mesos.pb.h"

namespace keel::protocol {

namespace {

std::string RoleOf(const v1::Resource& r) {
  if (r.reservations_size() > 0) return r.reservations(r.reservations_size() - 1).role();
  return r.role();
}

}  // namespace

Result<Resources> FromProto(const ResourceList& list) {
  Resources out;
  for (int i = 0; i < list.size(); ++i) {
    const v1::Resource& r = list.Get(i);
    const std::string where = "resources[" + std::to_string(i) + "] '" + r.name() + "'";
    if (r.name().empty()) return Status::Error("resources[" + std::to_string(i) + "]: no name");
    Resource entry;
    entry.name = r.name();
    entry.role = RoleOf(r);
    if (entry.role.empty()) entry.role = "*";
    switch (r.type()) {
      case v1::Value::SCALAR: {
        const double v = r.scalar().value();
        if (!r.has_scalar() || !std::isfinite(v)) {
          return Status::Error(where + ": a SCALAR needs a finite scalar.value");
        }
        if (v < 0) return Status::Error(where + ": negative scalar " + std::to_string(v));
        entry.type = Resource::Type::kScalar;
        entry.scalar = Scalar::FromDouble(v);
        break;
      }
      case v1::Value::RANGES:
        entry.type = Resource::Type::kRanges;
        for (const auto& range : r.ranges().range()) {
          if (range.begin() > range.end()) {
            return Status::Error(where + ": range " + std::to_string(range.begin()) + "-" +
                                 std::to_string(range.end()) + " ends before it begins");
          }
          entry.ranges.Add(range.begin(), range.end());
        }
        break;
      case v1::Value::SET:
        entry.type = Resource::Type::kSet;
        entry.set.insert(r.set().item().begin(), r.set().item().end());
        break;
      default:
        return Status::Error(where + ": type must be SCALAR, RANGES or SET");
    }
    if (auto s = out.Add(entry); !s.ok()) return Status::Error(where + ": " + s.message());
  }
  return out;
}

void ToProto(const Resources& resources, ResourceList* out, const std::string& allocation_role) {
  out->Clear();
  for (const Resource& entry : resources.entries()) {
    v1::Resource* r = out->Add();
    r->set_name(entry.name);
    r->set_role(entry.role);
    if (entry.role != "*") {
      auto* reservation = r->add_reservations();
      reservation->set_type(v1::Resource::ReservationInfo::STATIC);
      reservation->set_role(entry.role);
    }
    if (!allocation_role.empty()) r->mutable_allocation_info()->set_role(allocation_role);
    switch (entry.type) {
      case Resource::Type::kScalar:
        r->set_type(v1::Value::SCALAR);
        r->mutable_scalar()->set_value(entry.scalar.value());
        break;
      case Resource::Type::kRanges:
        r->set_type(v1::Value::RANGES);
        for (const auto& [begin, end] : entry.ranges.intervals()) {
          auto* range = r->mutable_ranges()->add_range();
          range->set_begin(begin);
          range->set_end(end);
        }
        break;
      case Resource::Type::kSet:
        r->set_type(v1::Value::SET);
        for (const auto& item : entry.set) r->mutable_set()->add_item(item);
        break;
    }
  }
}

}  // namespace keel::protocol
