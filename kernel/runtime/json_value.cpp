#include "kernel/runtime/json_value.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <limits>

namespace keel::runtime {

namespace {
const char* JsonKind(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kNullValue:
      return "null";
    case google::protobuf::Value::kNumberValue:
      return "a number";
    case google::protobuf::Value::kStringValue:
      return "a string";
    case google::protobuf::Value::kBoolValue:
      return "a bool";
    case google::protobuf::Value::kStructValue:
      return "an object";
    case google::protobuf::Value::kListValue:
      return "a list";
    default:
      return "nothing";
  }
}

Status Expected(const char* what, const google::protobuf::Value& value) {
  return Status::Error(std::string("expected ") + what + ", got " + JsonKind(value) + " " +
                       JsonValueText(value));
}

bool IsIntegral(double d) {
  return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15;
}
}  // namespace

std::string JsonValueText(const google::protobuf::Value& value) {
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(value, &out).ok()) return "?";
  return out;
}

Result<Parameters::Value> ParameterFromJson(const google::protobuf::Value& value,
                                            ParameterType type) {
  using V = google::protobuf::Value;
  switch (type) {
    case ParameterType::kString:
      if (value.kind_case() != V::kStringValue) return Expected("a string", value);
      return Parameters::Value(value.string_value());
    case ParameterType::kInt:
      if (value.kind_case() != V::kNumberValue || !IsIntegral(value.number_value())) {
        return Expected("an integer", value);
      }
      return Parameters::Value(static_cast<int64_t>(value.number_value()));
    case ParameterType::kDouble:
      if (value.kind_case() != V::kNumberValue) return Expected("a number", value);
      return Parameters::Value(value.number_value());
    case ParameterType::kBool:
      if (value.kind_case() != V::kBoolValue) return Expected("true or false", value);
      return Parameters::Value(value.bool_value());
    case ParameterType::kDuration: {
      if (value.kind_case() != V::kStringValue) {
        return Expected("a duration string such as \"500ms\" or \"1s\"", value);
      }
      auto d = ParseDuration(value.string_value());
      if (!d.ok()) return d.status();
      return Parameters::Value(*d);
    }
    case ParameterType::kBytes: {
      if (value.kind_case() == V::kNumberValue) {
        double n = value.number_value();
        if (!IsIntegral(n) || n < 0) return Expected("a byte count such as \"512MB\"", value);
        return Parameters::Value(static_cast<uint64_t>(n));
      }
      if (value.kind_case() != V::kStringValue) {
        return Expected("a byte count such as \"512MB\"", value);
      }
      auto b = ParseBytes(value.string_value());
      if (!b.ok()) return b.status();
      return Parameters::Value(*b);
    }
    case ParameterType::kList: {
      if (value.kind_case() != V::kListValue) return Expected("a list of strings", value);
      std::vector<std::string> items;
      for (const auto& item : value.list_value().values()) {
        if (item.kind_case() != V::kStringValue) return Expected("a list of strings", value);
        items.push_back(item.string_value());
      }
      return Parameters::Value(std::move(items));
    }
  }
  return Status::Error("unknown parameter type");
}

}  // namespace keel::runtime
