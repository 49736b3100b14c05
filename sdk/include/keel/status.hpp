// Status: the outcome of an operation that can fail, as a value.
//
// Module interfaces return Status (or Result<T>) instead of throwing, so a
// failure is visible at the call site and never unwinds through the kernel's
// strand. An ok Status carries no message; an error carries a message meant
// for an operator ("cgroups/mem: cannot write memory.limit_in_bytes: EACCES").
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace keel {

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !message_.has_value(); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok()
  const std::string& message() const { return *message_; }
  std::string ToString() const { return ok() ? std::string("OK") : *message_; }

 private:
  explicit Status(std::string message) : message_(std::move(message)) {}
  std::optional<std::string> message_;
};

// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}       // NOLINT: implicit by design
  Result(Status error) : error_(std::move(error)) {}  // NOLINT: REQUIRES: !error.ok()

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Status& status() const { return error_; }
  // REQUIRES: ok()
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const { return *value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status error_;
};

}  // namespace keel
