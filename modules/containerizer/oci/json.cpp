#include "modules/containerizer/oci/json.hpp"

#include <google/protobuf/util/json_util.h>

#include <cstdio>

namespace keel::modules::oci {

Result<JsonValue> ParseJson(const std::string& text, const std::string& what) {
  JsonValue value;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(text, &value, options);
  if (!status.ok()) {
    return Status::Error(what + ": not JSON: " + std::string(status.message()));
  }
  return value;
}

const JsonValue* Field(const JsonValue& value, const std::string& name) {
  if (value.kind_case() != JsonValue::kStructValue) return nullptr;
  const auto& fields = value.struct_value().fields();
  auto it = fields.find(name);
  if (it == fields.end()) return nullptr;
  return &it->second;
}

std::string StringField(const JsonValue& value, const std::string& name,
                        const std::string& fallback) {
  const JsonValue* field = Field(value, name);
  if (field == nullptr || field->kind_case() != JsonValue::kStringValue) return fallback;
  return field->string_value();
}

Result<std::optional<std::vector<std::string>>> StringListField(const JsonValue& value,
                                                                const std::string& name) {
  const JsonValue* field = Field(value, name);
  if (field == nullptr || field->kind_case() == JsonValue::kNullValue) {
    return std::optional<std::vector<std::string>>();
  }
  if (field->kind_case() != JsonValue::kListValue) {
    return Status::Error("'" + name + "' is not a list");
  }
  std::vector<std::string> out;
  for (const auto& item : field->list_value().values()) {
    if (item.kind_case() != JsonValue::kStringValue) {
      return Status::Error("'" + name + "' holds something other than strings");
    }
    out.push_back(item.string_value());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void JsonOut::Separate() {
  if (need_comma_) text_ += ',';
  need_comma_ = true;
}

JsonOut& JsonOut::BeginObject() {
  Separate();
  text_ += '{';
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::EndObject() {
  text_ += '}';
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::BeginArray() {
  Separate();
  text_ += '[';
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::EndArray() {
  text_ += ']';
  need_comma_ = true;
  return *this;
}

JsonOut& JsonOut::Key(const std::string& key) {
  Separate();
  text_ += JsonQuote(key) + ':';
  need_comma_ = false;
  return *this;
}

JsonOut& JsonOut::String(const std::string& value) {
  Separate();
  text_ += JsonQuote(value);
  return *this;
}

JsonOut& JsonOut::Int(int64_t value) {
  Separate();
  text_ += std::to_string(value);
  return *this;
}

JsonOut& JsonOut::Uint(uint64_t value) {
  Separate();
  text_ += std::to_string(value);
  return *this;
}

JsonOut& JsonOut::Bool(bool value) {
  Separate();
  text_ += value ? "true" : "false";
  return *this;
}

JsonOut& JsonOut::Strings(const std::vector<std::string>& values) {
  BeginArray();
  for (const auto& v : values) String(v);
  return EndArray();
}

}  // namespace keel::modules::oci
