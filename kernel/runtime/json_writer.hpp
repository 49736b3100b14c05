// JsonWriter: appends JSON to a string as it goes, for the large documents
// the daemons serve (a master's state with 10,000 tasks), where building a
// protobuf Struct first would cost a copy of everything and an allocation
// per value.
//
// The caller keeps the structure right (Key before each member value); the
// writer places the commas and escapes strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace keel::runtime {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Number(double value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  // `json` must be a complete JSON value.
  JsonWriter& Raw(std::string_view json);

  // Key and value in one.
  template <typename T>
  JsonWriter& Field(std::string_view key, const T& value);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();

  std::string out_;
  // Per open container: whether a value was written in it yet.
  std::vector<bool> has_value_;
  bool after_key_ = false;
};

template <typename T>
JsonWriter& JsonWriter::Field(std::string_view key, const T& value) {
  Key(key);
  if constexpr (std::is_same_v<T, bool>) {
    return Bool(value);
  } else if constexpr (std::is_integral_v<T>) {
    return Int(static_cast<int64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    return Number(value);
  } else {
    return String(value);
  }
}

}  // namespace keel::runtime
