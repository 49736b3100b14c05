#include "tools/keelctl/json_fields.hpp"

#include "kernel/runtime/json_text.hpp"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

namespace keel::keelctl {

Outcome<Struct> ParseObject(const std::string& text, const std::string& where) {
  Struct object;
  if (!google::protobuf::util::JsonStringToMessage(text, &object).ok()) {
    std::string start = text.substr(0, text.find('\n')).substr(0, 200);
    return Failure{kExitFailed, where + " is not a JSON object: " + start};
  }
  return object;
}

const Value* Find(const Struct& object, const std::string& key) {
  auto it = object.fields().find(key);
  return it == object.fields().end() ? nullptr : &it->second;
}

const Struct& ObjectOr(const Struct& object, const std::string& key) {
  const Value* v = Find(object, key);
  return v != nullptr && v->has_struct_value() ? v->struct_value() : Struct::default_instance();
}

std::string Text(const Struct& object, const std::string& key, const std::string& fallback) {
  const Value* v = Find(object, key);
  if (v == nullptr) return fallback;
  switch (v->kind_case()) {
    case Value::kStringValue:
      return v->string_value().empty() ? fallback : v->string_value();
    case Value::kNumberValue:
      return FormatNumber(v->number_value());
    case Value::kBoolValue:
      return v->bool_value() ? "true" : "false";
    default:
      return fallback;
  }
}

double Number(const Struct& object, const std::string& key, double fallback) {
  const Value* v = Find(object, key);
  return v != nullptr && v->has_number_value() ? v->number_value() : fallback;
}

bool Boolean(const Struct& object, const std::string& key, bool fallback) {
  const Value* v = Find(object, key);
  return v != nullptr && v->has_bool_value() ? v->bool_value() : fallback;
}

Outcome<std::vector<const Struct*>> Objects(const Struct& object, const std::string& key,
                                            const std::string& where) {
  const Value* v = Find(object, key);
  if (v == nullptr || !v->has_list_value()) {
    return Failure{kExitFailed, where + " has no '" + key + "' list"};
  }
  std::vector<const Struct*> out;
  for (const Value& element : v->list_value().values()) {
    if (element.has_struct_value()) out.push_back(&element.struct_value());
  }
  return out;
}

Outcome<std::string> RequiredText(const Struct& object, const std::string& key,
                                  const std::string& where) {
  const Value* v = Find(object, key);
  if (v == nullptr || !v->has_string_value() || v->string_value().empty()) {
    return Failure{kExitFailed, where + " has no '" + key + "'"};
  }
  return v->string_value();
}

std::string FormatNumber(double value) {
  if (!std::isfinite(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", value);
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out == "-0" ? "0" : out;
}

namespace {

void AppendJson(const Value& value, std::string* out);

void AppendObject(const Struct& object, std::string* out) {
  // Sorted keys: the same answer prints the same way every time.
  std::map<std::string, const Value*> sorted;
  for (const auto& [key, v] : object.fields()) sorted[key] = &v;
  *out += '{';
  for (const auto& [key, v] : sorted) {
    if (out->back() != '{') *out += ',';
    runtime::AppendJsonString(out, key);
    *out += ':';
    AppendJson(*v, out);
  }
  *out += '}';
}

void AppendJson(const Value& value, std::string* out) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      return runtime::AppendJsonString(out, value.string_value());
    case Value::kNumberValue: {
      char text[32];
      auto [end, ec] = std::to_chars(text, text + sizeof text, value.number_value());
      *out += ec == std::errc() && std::isfinite(value.number_value()) ? std::string(text, end)
                                                                       : "null";
      return;
    }
    case Value::kBoolValue:
      *out += value.bool_value() ? "true" : "false";
      return;
    case Value::kStructValue:
      return AppendObject(value.struct_value(), out);
    case Value::kListValue:
      *out += '[';
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        if (i > 0) *out += ',';
        AppendJson(value.list_value().values(i), out);
      }
      *out += ']';
      return;
    default:
      *out += "null";
  }
}

}  // namespace

std::string JsonArray(const std::vector<const Struct*>& values) {
  std::string out = "[";
  for (const Struct* s : values) {
    if (out.size() > 1) out += ',';
    AppendObject(*s, &out);
  }
  return out + "]";
}

}  // namespace keel::keelctl
