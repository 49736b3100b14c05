#include "keel/resources.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <tuple>

namespace keel {

// ---- Scalar -------------------------------------------------------------

Scalar Scalar::FromDouble(double value) { return Scalar(std::llround(value * 1000.0)); }

std::string Scalar::ToString() const {
  const int64_t whole = millis_ / 1000;
  int64_t frac = std::llabs(millis_ % 1000);
  std::string out = (millis_ < 0 && whole == 0 ? "-" : "") + std::to_string(whole);
  if (frac == 0) return out;
  std::string digits = std::to_string(frac);
  digits.insert(0, 3 - digits.size(), '0');
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

// ---- Ranges -------------------------------------------------------------

void Ranges::Add(uint64_t begin, uint64_t end) {
  // Insert, then merge overlapping and adjacent neighbours in one pass.
  intervals_.emplace_back(begin, end);
  std::sort(intervals_.begin(), intervals_.end());
  std::vector<Interval> merged;
  for (const auto& iv : intervals_) {
    if (!merged.empty() && (merged.back().second == std::numeric_limits<uint64_t>::max() ||
                            iv.first <= merged.back().second + 1)) {
      merged.back().second = std::max(merged.back().second, iv.second);
    } else {
      merged.push_back(iv);
    }
  }
  intervals_ = std::move(merged);
}

void Ranges::Add(const Ranges& other) {
  for (const auto& iv : other.intervals_) Add(iv.first, iv.second);
}

void Ranges::Subtract(const Ranges& other) {
  std::vector<Interval> result;
  for (auto iv : intervals_) {
    bool gone = false;
    for (const auto& cut : other.intervals_) {
      if (cut.second < iv.first || cut.first > iv.second) continue;
      if (cut.first > iv.first) result.emplace_back(iv.first, cut.first - 1);
      if (cut.second >= iv.second) {
        gone = true;
        break;
      }
      iv.first = cut.second + 1;
    }
    if (!gone) result.push_back(iv);
  }
  intervals_ = std::move(result);
}

bool Ranges::Contains(const Ranges& other) const {
  for (const auto& need : other.intervals_) {
    bool covered = false;
    for (const auto& have : intervals_) {
      if (have.first <= need.first && need.second <= have.second) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

uint64_t Ranges::size() const {
  uint64_t total = 0;
  for (const auto& iv : intervals_) {
    uint64_t n = iv.second - iv.first;
    if (n == std::numeric_limits<uint64_t>::max() ||
        total > std::numeric_limits<uint64_t>::max() - n - 1) {
      return std::numeric_limits<uint64_t>::max();
    }
    total += n + 1;
  }
  return total;
}

std::string Ranges::ToString() const {
  std::string out = "[";
  for (size_t i = 0; i < intervals_.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(intervals_[i].first) + "-" + std::to_string(intervals_[i].second);
  }
  return out + "]";
}

// ---- Resource -----------------------------------------------------------

bool Resource::empty() const {
  switch (type) {
    case Type::kScalar:
      return scalar.millis() <= 0;
    case Type::kRanges:
      return ranges.empty();
    case Type::kSet:
      return set.empty();
  }
  return true;
}

namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return std::string(s.substr(b, e - b + 1));
}

bool ValidRole(const std::string& role) {
  if (role.empty() || role.front() == '.' || role.front() == '/') return false;
  for (char c : role) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '/' &&
        c != '-' && c != '*') {
      return false;
    }
  }
  return true;
}

bool ParseUint(const std::string& text, uint64_t* value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0) return false;
  *value = v;
  return true;
}

std::vector<std::string> SplitList(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(Trim(std::string_view(text).substr(start, end - start)));
    start = end + 1;
  }
  return parts;
}

bool SameKey(const Resource& a, const Resource& b) { return a.name == b.name && a.role == b.role; }

bool KeyLess(const Resource& a, const Resource& b) {
  return std::tie(a.name, a.role) < std::tie(b.name, b.role);
}

}  // namespace

// ---- Resources ----------------------------------------------------------

Resources Resources::Scalar(std::string name, double value, std::string role) {
  Resource r;
  r.name = std::move(name);
  r.role = std::move(role);
  r.type = Resource::Type::kScalar;
  r.scalar = keel::Scalar::FromDouble(value);
  Resources out;
  out.Add(r);
  return out;
}

Result<Resources> Resources::Parse(std::string_view text) {
  Resources out;
  for (const std::string& entry : SplitList(std::string(text), ';')) {
    if (entry.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status::Error("resources: '" + entry + "': " + why);
    };
    size_t colon = entry.find(':');
    if (colon == std::string::npos) return bad("expected name:value");
    std::string key = Trim(std::string_view(entry).substr(0, colon));
    std::string value = Trim(std::string_view(entry).substr(colon + 1));
    Resource r;
    if (size_t paren = key.find('('); paren != std::string::npos) {
      if (key.back() != ')') return bad("expected name(role)");
      r.role = key.substr(paren + 1, key.size() - paren - 2);
      key = Trim(std::string_view(key).substr(0, paren));
      if (!ValidRole(r.role)) return bad("'" + r.role + "' is not a valid role");
    }
    if (key.empty()) return bad("empty resource name");
    r.name = key;
    if (value.empty()) return bad("empty value");

    if (value.front() == '[') {
      if (value.back() != ']') return bad("ranges must end with ']'");
      r.type = Resource::Type::kRanges;
      std::string inner = value.substr(1, value.size() - 2);
      if (!Trim(inner).empty()) {
        for (const std::string& item : SplitList(inner, ',')) {
          size_t dash = item.find('-');
          uint64_t begin = 0, end = 0;
          if (dash == std::string::npos ||
              !ParseUint(Trim(std::string_view(item).substr(0, dash)), &begin) ||
              !ParseUint(Trim(std::string_view(item).substr(dash + 1)), &end)) {
            return bad("'" + item + "' is not a range begin-end");
          }
          if (begin > end) {
            return bad("range begin " + std::to_string(begin) + " is greater than end " +
                       std::to_string(end));
          }
          r.ranges.Add(begin, end);
        }
      }
    } else if (value.front() == '{') {
      if (value.back() != '}') return bad("sets must end with '}'");
      r.type = Resource::Type::kSet;
      std::string inner = value.substr(1, value.size() - 2);
      if (!Trim(inner).empty()) {
        for (const std::string& item : SplitList(inner, ',')) {
          if (item.empty()) return bad("empty set item");
          r.set.insert(item);
        }
      }
    } else {
      r.type = Resource::Type::kScalar;
      char* end = nullptr;
      double d = std::strtod(value.c_str(), &end);
      if (end != value.c_str() + value.size() ||
          value.find_first_of("xXpPnN") != std::string::npos) {
        return bad("'" + value + "' is not a number");
      }
      if (!std::isfinite(d)) return bad("'" + value + "' is not a finite number");
      if (d < 0) return bad("'" + value + "' is negative");
      r.scalar = keel::Scalar::FromDouble(d);
    }
    for (const auto& existing : out.entries_) {
      if (SameKey(existing, r) && existing.type != r.type) {
        return bad("'" + r.name + "' is given with two different types");
      }
    }
    if (auto s = out.Add(r); !s.ok()) return bad(s.message());
  }
  return out;
}

std::string Resources::ToString() const {
  std::string out;
  for (const auto& r : entries_) {
    if (!out.empty()) out += ";";
    out += r.name;
    if (r.role != "*") out += "(" + r.role + ")";
    out += ":";
    switch (r.type) {
      case Resource::Type::kScalar:
        out += r.scalar.ToString();
        break;
      case Resource::Type::kRanges:
        out += r.ranges.ToString();
        break;
      case Resource::Type::kSet: {
        out += "{";
        bool first = true;
        for (const auto& item : r.set) {
          out += (first ? "" : ",") + item;
          first = false;
        }
        out += "}";
        break;
      }
    }
  }
  return out;
}

Status Resources::Add(const Resource& resource) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), resource, KeyLess);
  if (it != entries_.end() && SameKey(*it, resource)) {
    if (it->type != resource.type) {
      return Status::Error("'" + resource.name + "' is " +
                           (it->type == Resource::Type::kScalar ? "a scalar" : "not a scalar") +
                           " here; cannot add another type");
    }
    switch (resource.type) {
      case Resource::Type::kScalar:
        it->scalar += resource.scalar;
        break;
      case Resource::Type::kRanges:
        it->ranges.Add(resource.ranges);
        break;
      case Resource::Type::kSet:
        it->set.insert(resource.set.begin(), resource.set.end());
        break;
    }
    if (it->empty()) entries_.erase(it);
    return Status::Ok();
  }
  if (resource.empty()) return Status::Ok();
  entries_.insert(it, resource);
  return Status::Ok();
}

Resources& Resources::operator+=(const Resources& other) {
  for (const auto& r : other.entries_) (void)Add(r);
  return *this;
}

Resources& Resources::operator-=(const Resources& other) {
  for (const auto& r : other.entries_) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), r, KeyLess);
    if (it == entries_.end() || !SameKey(*it, r) || it->type != r.type) continue;
    switch (r.type) {
      case Resource::Type::kScalar:
        it->scalar = std::max(keel::Scalar(), it->scalar - r.scalar);
        break;
      case Resource::Type::kRanges:
        it->ranges.Subtract(r.ranges);
        break;
      case Resource::Type::kSet:
        for (const auto& item : r.set) it->set.erase(item);
        break;
    }
    if (it->empty()) entries_.erase(it);
  }
  return *this;
}

bool Resources::Contains(const Resources& other) const {
  for (const auto& need : other.entries_) {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), need, KeyLess);
    if (it == entries_.end() || !SameKey(*it, need) || it->type != need.type) return false;
    switch (need.type) {
      case Resource::Type::kScalar:
        if (it->scalar < need.scalar) return false;
        break;
      case Resource::Type::kRanges:
        if (!it->ranges.Contains(need.ranges)) return false;
        break;
      case Resource::Type::kSet:
        if (!std::includes(it->set.begin(), it->set.end(), need.set.begin(), need.set.end())) {
          return false;
        }
        break;
    }
  }
  return true;
}

keel::Scalar Resources::GetScalar(std::string_view name) const {
  keel::Scalar total;
  for (const auto& r : entries_) {
    if (r.name == name && r.type == Resource::Type::kScalar) total += r.scalar;
  }
  return total;
}

Ranges Resources::GetRanges(std::string_view name) const {
  Ranges total;
  for (const auto& r : entries_) {
    if (r.name == name && r.type == Resource::Type::kRanges) total.Add(r.ranges);
  }
  return total;
}

Resources Resources::Unreserved() const { return ReservedFor("*"); }

Resources Resources::ReservedFor(std::string_view role) const {
  Resources out;
  for (const auto& r : entries_) {
    if (r.role == role) out.entries_.push_back(r);
  }
  return out;
}

std::set<std::string> Resources::Names() const {
  std::set<std::string> names;
  for (const auto& r : entries_) names.insert(r.name);
  return names;
}

}  // namespace keel
