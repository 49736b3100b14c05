// JSON for the `oci` containerizer: image manifests and configs are read
// into protobuf's generic google.protobuf.Value (the SDK already links
// protobuf); runc's config.json and the store's own files are written with
// JsonOut, which prints integers as integers (runc's Go decoder refuses
// 1e+09 for an int64).
#pragma once

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keel/status.hpp"

namespace keel::modules::oci {

using JsonValue = google::protobuf::Value;

// `what` names the text in the error ("blobs/sha256/ab..: not JSON: ...").
Result<JsonValue> ParseJson(const std::string& text, const std::string& what);

// Field `name` of an object, or nullptr when `value` is no object or lacks it.
const JsonValue* Field(const JsonValue& value, const std::string& name);
// The string field, or `fallback` when absent or not a string.
std::string StringField(const JsonValue& value, const std::string& name,
                        const std::string& fallback = "");
// A list of strings; nullopt when absent or null; an error when not a list
// of strings.
Result<std::optional<std::vector<std::string>>> StringListField(const JsonValue& value,
                                                                const std::string& name);

// Builds JSON text. Values are appended in order; Key() before each value of
// an object. No checking of the nesting: callers write well-formed JSON.
class JsonOut {
 public:
  JsonOut& BeginObject();
  JsonOut& EndObject();
  JsonOut& BeginArray();
  JsonOut& EndArray();
  JsonOut& Key(const std::string& key);
  JsonOut& String(const std::string& value);
  JsonOut& Int(int64_t value);
  JsonOut& Uint(uint64_t value);
  JsonOut& Bool(bool value);
  JsonOut& Strings(const std::vector<std::string>& values);
  const std::string& text() const { return text_; }

 private:
  void Separate();
  std::string text_;
  bool need_comma_ = false;
};

std::string JsonQuote(const std::string& text);

}  // namespace keel::modules::oci
