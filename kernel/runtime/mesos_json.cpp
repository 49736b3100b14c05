#include "kernel/runtime/mesos_json.hpp"

#include "kernel/runtime/json_text.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <charconv>
#include <cmath>

namespace keel::runtime {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename T>
void AppendNumber(std::string* out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out->append(buf, end);
}

void AppendDouble(std::string* out, double value) {
  // JSON has no NaN or infinity; Mesos never sends them either.
  if (!std::isfinite(value)) value = 0;
  AppendNumber(out, value);
}

void AppendMessage(std::string* out, const Message& message);

// One value of `field` (element `index` when repeated, else -1).
void AppendValue(std::string* out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      AppendNumber(out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      AppendNumber(out, rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      AppendNumber(out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      AppendNumber(out, rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(out, rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendDouble(out, rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      *out += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false";
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      AppendJsonString(out, std::string(value->name()));
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      AppendJsonString(out, f->type() == FieldDescriptor::TYPE_BYTES ? Base64(s) : s);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      break;
  }
}

void AppendMap(std::string* out, const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  out->push_back('{');
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const Message& entry = r->GetRepeatedMessage(m, f, i);
    const auto* key = entry.GetDescriptor()->map_key();
    const auto* value = entry.GetDescriptor()->map_value();
    if (i) out->push_back(',');
    std::string k;
    AppendValue(&k, entry, key, -1);
    if (k.front() != '"') k = "\"" + k + "\"";  // JSON keys are strings
    *out += k + ":";
    AppendValue(out, entry, value, -1);
  }
  out->push_back('}');
}

void AppendMessage(std::string* out, const Message& message) {
  const Reflection* r = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(message, &fields);  // set fields, in field-number order
  out->push_back('{');
  bool first = true;
  for (const FieldDescriptor* f : fields) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, std::string(f->name()));
    out->push_back(':');
    if (f->is_map()) {
      AppendMap(out, message, f);
    } else if (f->is_repeated()) {
      out->push_back('[');
      for (int i = 0; i < r->FieldSize(message, f); ++i) {
        if (i) out->push_back(',');
        AppendValue(out, message, f, i);
      }
      out->push_back(']');
    } else {
      AppendValue(out, message, f, -1);
    }
  }
  out->push_back('}');
}

}  // namespace

std::string MesosJson(const Message& message) {
  std::string out;
  AppendMessage(&out, message);
  return out;
}

}  // namespace keel::runtime
