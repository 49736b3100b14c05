// Daemon configuration: built-in defaults, then the config file, then its
// drop-ins, then command-line flags, each overriding the one before.
//
//   defaults   config/<daemon>.json, compiled into the daemon
//   --config   a JSON file (strict: unknown fields are errors)
//   drop-ins   every *.json in --conf_dir (default: conf.d/<daemon>/ beside
//              the config file), in name order
//   flags      --<field>=VALUE for any top-level field of the config
//
// A file or drop-in replaces each top-level field it sets, whole: a drop-in
// that sets "allocator" replaces the module and all its parameters.
#pragma once

#include <string>
#include <vector>

#include "keel/status.hpp"
#include "kernel/runtime/flags.hpp"

namespace google::protobuf {
class Message;
}

namespace keel::runtime {

struct ConfigSources {
  std::string daemon;         // "master" or "agent"
  std::string defaults_json;  // the built-in defaults
  std::string config_path;    // --config; empty: defaults only
  std::string conf_dir;       // --conf_dir; empty: derived from config_path
  std::vector<Flag> flags;    // config flags only (not --config, --help ...)
};

// Fills `config` (a MasterConfig or AgentConfig). Each error line names the
// file or flag at fault; all problems found are reported, not just the first.
Status LoadConfig(const ConfigSources& sources, google::protobuf::Message* config,
                  std::vector<std::string>* errors);

// Sets one top-level field from a flag. Repeated string fields take a comma
// list (module_path also ':'); a module field takes the module's name
// (`--allocator=binpack`); a list of modules takes names (`--isolators=a,b`).
Status ApplyFlag(const Flag& flag, google::protobuf::Message* config);

// Overwrites each top-level field `overlay` sets, whole.
void ApplyOverlay(const google::protobuf::Message& overlay, google::protobuf::Message* base);

}  // namespace keel::runtime
