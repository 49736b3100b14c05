// Resources: what an agent has, a task needs and an offer gives.
//
// A Resources value is a bag of named resources, each of one type:
//   scalar  cpus, mem (MB), disk (MB), gpus ... kept in fixed point with
//           three decimals (as Mesos does), so 0.1 + 0.2 == 0.3 exactly;
//   ranges  ports: sorted, merged [begin-end] intervals of unsigned integers;
//   set     named items, e.g. disks:{sda,sdb}.
// Each resource is either unreserved (role "*") or reserved for one role;
// the same name with different roles are different resources.
//
// Text form (Mesos's `--resources` syntax):
//   cpus:2;mem:1024;disk:4096;ports:[31000-32000,40000-40010];disks:{sda,sdb}
//   cpus(eng):1         one cpu reserved for role "eng"
// Entries are separated by ';'. A name may repeat; repeats are added up.
//
// A plain value type: copyable, comparable, no hidden sharing, not
// thread-safe across concurrent writers (like std::vector).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keel/status.hpp"

namespace keel {

// A non-negative or negative amount with three decimal digits, exact.
class Scalar {
 public:
  constexpr Scalar() = default;
  // Rounds to the nearest thousandth.
  static Scalar FromDouble(double value);
  static constexpr Scalar FromMillis(int64_t millis) { return Scalar(millis); }

  double value() const { return static_cast<double>(millis_) / 1000.0; }
  int64_t millis() const { return millis_; }

  Scalar& operator+=(Scalar other) {
    millis_ += other.millis_;
    return *this;
  }
  Scalar& operator-=(Scalar other) {
    millis_ -= other.millis_;
    return *this;
  }
  friend Scalar operator+(Scalar a, Scalar b) { return a += b; }
  friend Scalar operator-(Scalar a, Scalar b) { return a -= b; }
  friend auto operator<=>(Scalar, Scalar) = default;
  friend bool operator==(Scalar, Scalar) = default;

  // "2", "0.5", "1.125": no trailing zeros.
  std::string ToString() const;

 private:
  constexpr explicit Scalar(int64_t millis) : millis_(millis) {}
  int64_t millis_ = 0;
};

// Sorted, non-overlapping, non-adjacent closed intervals.
class Ranges {
 public:
  using Interval = std::pair<uint64_t, uint64_t>;  // [first, second], first <= second

  Ranges() = default;
  void Add(uint64_t begin, uint64_t end);  // REQUIRES: begin <= end
  void Add(const Ranges& other);
  void Subtract(const Ranges& other);
  bool Contains(const Ranges& other) const;
  bool empty() const { return intervals_.empty(); }
  uint64_t size() const;  // number of values covered
  const std::vector<Interval>& intervals() const { return intervals_; }
  // "[31000-32000, 40000-40010]"
  std::string ToString() const;
  friend bool operator==(const Ranges&, const Ranges&) = default;

 private:
  std::vector<Interval> intervals_;
};

struct Resource {
  enum class Type { kScalar, kRanges, kSet };

  std::string name;
  std::string role = "*";  // "*" = unreserved
  Type type = Type::kScalar;
  Scalar scalar;
  Ranges ranges;
  std::set<std::string> set;

  bool empty() const;  // zero scalar, no ranges, empty set
  friend bool operator==(const Resource&, const Resource&) = default;
};

class Resources {
 public:
  Resources() = default;

  // Parses the text form. Errors name the entry at fault:
  //   "resources: 'cpus:abc': 'abc' is not a number".
  static Result<Resources> Parse(std::string_view text);
  // The text form, entries sorted by name then role; "" when empty.
  std::string ToString() const;

  static Resources Scalar(std::string name, double value, std::string role = "*");

  bool empty() const { return entries_.empty(); }
  const std::vector<Resource>& entries() const { return entries_; }

  // Adds one resource; same name and role merge. Mixing types under one name
  // and role is a programming error: returns an error Status, changes nothing.
  Status Add(const Resource& resource);

  Resources& operator+=(const Resources& other);
  // Takes away what `other` has of each resource; a scalar never goes below
  // zero and ranges and sets lose what they share. Empty entries disappear.
  Resources& operator-=(const Resources& other);
  friend Resources operator+(Resources a, const Resources& b) { return a += b; }
  friend Resources operator-(Resources a, const Resources& b) { return a -= b; }

  // True when every resource of `other` is available here in full.
  bool Contains(const Resources& other) const;

  // The scalar amount of `name` summed over roles (0 when absent).
  keel::Scalar GetScalar(std::string_view name) const;
  // The ranges of `name` merged over roles (empty when absent).
  Ranges GetRanges(std::string_view name) const;

  Resources Unreserved() const;                        // role "*" only
  Resources ReservedFor(std::string_view role) const;  // exactly `role`
  // Names present, sorted.
  std::set<std::string> Names() const;

  // Value equality (entries are kept in canonical order, so this is exact).
  friend bool operator==(const Resources&, const Resources&) = default;

 private:
  std::vector<Resource> entries_;  // sorted by (name, role); no empty entries
};

}  // namespace keel
