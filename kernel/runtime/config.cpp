#include "kernel/runtime/config.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "kernel/runtime/json_file.hpp"

namespace keel::runtime {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

namespace {

std::vector<std::string> Split(const std::string& text, const std::string& separators) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (separators.find(c) != std::string::npos) {
      if (!current.empty()) parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) parts.push_back(current);
  return parts;
}

bool IsModuleConfig(const FieldDescriptor* field) {
  return field->type() == FieldDescriptor::TYPE_MESSAGE &&
         field->message_type()->full_name() == "keel.config.ModuleConfig";
}

}  // namespace

void ApplyOverlay(const Message& overlay, Message* base) {
  const Reflection* from = overlay.GetReflection();
  const Reflection* to = base->GetReflection();
  std::vector<const FieldDescriptor*> set_fields;
  from->ListFields(overlay, &set_fields);
  for (const FieldDescriptor* field : set_fields) {
    to->ClearField(base, field);
  }
  // MergeFrom of an overlay whose set fields were cleared in `base` copies
  // exactly those fields.
  base->MergeFrom(overlay);
}

Status ApplyFlag(const Flag& flag, Message* config) {
  const FieldDescriptor* field = config->GetDescriptor()->FindFieldByName(flag.name);
  if (field == nullptr) return Status::Error("unknown flag --" + flag.name);
  const Reflection* r = config->GetReflection();
  auto bad = [&](const std::string& what) {
    return Status::Error("flag --" + flag.name + "=" + flag.value + ": " + what);
  };

  if (IsModuleConfig(field)) {
    if (flag.value.empty()) return bad("expected a module name");
    if (field->is_repeated()) {
      r->ClearField(config, field);
      for (const auto& name : Split(flag.value, ",")) {
        Message* module = r->AddMessage(config, field);
        module->GetReflection()->SetString(module, module->GetDescriptor()->FindFieldByName("name"),
                                           name);
      }
    } else {
      r->ClearField(config, field);
      Message* module = r->MutableMessage(config, field);
      module->GetReflection()->SetString(module, module->GetDescriptor()->FindFieldByName("name"),
                                         flag.value);
    }
    return Status::Ok();
  }
  if (field->is_repeated()) {
    if (field->type() != FieldDescriptor::TYPE_STRING) return bad("cannot be set by a flag");
    r->ClearField(config, field);
    for (const auto& item : Split(flag.value, field->name() == "module_path" ? ",:" : ",")) {
      r->AddString(config, field, item);
    }
    return Status::Ok();
  }
  switch (field->type()) {
    case FieldDescriptor::TYPE_STRING:
      r->SetString(config, field, flag.value);
      return Status::Ok();
    case FieldDescriptor::TYPE_UINT32: {
      char* end = nullptr;
      errno = 0;
      unsigned long v = std::strtoul(flag.value.c_str(), &end, 10);
      if (flag.value.empty() || *end != '\0' || errno != 0 || v > 0xffffffffUL ||
          flag.value[0] == '-') {
        return bad("expected a non-negative integer");
      }
      r->SetUInt32(config, field, static_cast<uint32_t>(v));
      return Status::Ok();
    }
    case FieldDescriptor::TYPE_BOOL:
      if (flag.value != "true" && flag.value != "false") return bad("expected true or false");
      r->SetBool(config, field, flag.value == "true");
      return Status::Ok();
    default:
      return bad("cannot be set by a flag");
  }
}

Status LoadConfig(const ConfigSources& sources, Message* config, std::vector<std::string>* errors) {
  const size_t errors_before = errors->size();
  std::unique_ptr<Message> layer(config->New());

  if (auto s = ParseJsonInto(sources.defaults_json, "built-in defaults", config); !s.ok()) {
    errors->push_back(s.message());
  }

  if (!sources.config_path.empty()) {
    if (auto s = ReadJsonFile(sources.config_path, layer.get()); !s.ok()) {
      errors->push_back(s.message());
    } else {
      ApplyOverlay(*layer, config);
    }
  }

  std::string conf_dir = sources.conf_dir;
  if (conf_dir.empty() && !sources.config_path.empty()) {
    conf_dir = (fs::path(sources.config_path).parent_path() / "conf.d" / sources.daemon).string();
    if (conf_dir.rfind("conf.d", 0) == 0) conf_dir = "./" + conf_dir;
  }
  std::error_code ec;
  if (!conf_dir.empty() && fs::is_directory(conf_dir, ec)) {
    std::vector<fs::path> dropins;
    for (const auto& entry : fs::directory_iterator(conf_dir, ec)) {
      if (entry.path().extension() == ".json" && entry.is_regular_file()) {
        dropins.push_back(entry.path());
      }
    }
    std::sort(dropins.begin(), dropins.end());
    for (const auto& path : dropins) {
      if (auto s = ReadJsonFile(path.string(), layer.get()); !s.ok()) {
        errors->push_back(s.message());
      } else {
        ApplyOverlay(*layer, config);
      }
    }
  } else if (!sources.conf_dir.empty()) {
    errors->push_back("flag --conf_dir=" + sources.conf_dir + ": not a directory");
  }

  for (const auto& flag : sources.flags) {
    if (auto s = ApplyFlag(flag, config); !s.ok()) errors->push_back(s.message());
  }
  if (errors->size() != errors_before) return Status::Error((*errors)[errors_before]);
  return Status::Ok();
}

}  // namespace keel::runtime
