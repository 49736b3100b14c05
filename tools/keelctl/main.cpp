// keelctl: the operator's command-line tool.
#include <iostream>
#include <map>
#include <set>

#include "kernel/runtime/flags.hpp"
#include "kernel/runtime/module_registry.hpp"
#include "tools/keelctl/config_command.hpp"
#include "tools/keelctl/image_command.hpp"
#include "tools/keelctl/keys_command.hpp"
#include "tools/keelctl/kill_command.hpp"
#include "tools/keelctl/list_commands.hpp"
#include "tools/keelctl/logs_command.hpp"
#include "tools/keelctl/master_client.hpp"
#include "tools/keelctl/modules_command.hpp"
#include "tools/keelctl/run_command.hpp"
#include "tools/keelctl/state_command.hpp"

namespace {

using keel::keelctl::FlagMap;

constexpr const char* kUsage =
    "Usage:\n"
    "  keelctl state [--json]\n"
    "  keelctl agents [--json]\n"
    "  keelctl frameworks [--all] [--json]\n"
    "  keelctl tasks [--all] [--json]\n"
    "  keelctl logs TASK [--stderr] [--follow] [--tail=N] [--framework=ID]\n"
    "  keelctl kill TASK [--framework=ID] [--timeout=30s]\n"
    "  keelctl run --master=HOST:PORT [--cpus=0.1] [--mem=32] [--name=NAME] -- COMMAND [ARGS...]\n"
    "  keelctl modules list [--module_path=DIR[:DIR...]]\n"
    "  keelctl modules inspect NAME [--module_path=DIR[:DIR...]]\n"
    "  keelctl config check FILE [--daemon=master|agent] [--module_path=DIR[:DIR...]]\n"
    "  keelctl keys generate --output=PATH [--force]\n"
    "  keelctl image import PATH --name=NAME[:TAG] [--force] [--work_dir=DIR]\n"
    "  keelctl image list [--json] [--work_dir=DIR]\n"
    "  keelctl image remove NAME[:TAG] [--work_dir=DIR]\n"
    "\n"
    "state, agents, frameworks, tasks, logs and kill ask the master over HTTP:\n"
    "  --master=HOST:PORT  the master (default: $KEEL_MASTER, else 127.0.0.1:5050)\n"
    "  --principal=NAME --secret=SECRET (or --secret_file=PATH)\n"
    "                      credentials, where the master authenticates HTTP requests\n"
    "\n"
    "  state       the master's id, version and uptime, agents, frameworks, tasks by\n"
    "              state, cpus and mem used of the total\n"
    "  agents      ID, HOSTNAME, CPUS and MEM (used/total), ACTIVE\n"
    "  frameworks  ID, NAME, ROLE, ACTIVE, TASKS, CPUS, MEM; --all adds completed ones\n"
    "  tasks       ID, NAME, STATE, FRAMEWORK, AGENT, CPUS, MEM of live tasks; --all adds\n"
    "              the ended ones the master remembers\n"
    "              (CPUS in cores, MEM in MB; --json: the master's JSON array instead)\n"
    "  logs        the task's stdout (--stderr: its stderr) from its sandbox; --tail=N:\n"
    "              the last N lines only; --follow: print what it writes until it ends\n"
    "  kill        kill the task, wait (--timeout, default 30s) until it ends, print\n"
    "              its last state\n"
    "  --framework=ID  the task of that framework, where several have a task of that id\n"
    "\n"
    "image works on the image store of the agent on this machine (for the oci\n"
    "containerizer), in --work_dir (the agent's, default /var/lib/keel/agent):\n"
    "  import      an OCI image layout directory or a docker save tarball as NAME:TAG\n"
    "              (TAG defaults to latest; --force replaces an image of that name)\n"
    "  list        NAME, TAG, ID, LAYERS, FORMAT, IMPORTED (--json: a JSON array)\n"
    "  remove      delete an image no container uses\n"
    "\n"
    "Exit codes (run exits with the task's own):\n"
    "  0  ok\n"
    "  1  the task or the operation failed, or the master refused it\n"
    "  2  usage: bad flags or arguments, or a task id that needs --framework\n"
    "  3  cannot reach the master or the agent\n"
    "  4  not found: no such task, no such file in its sandbox, or no such image or PATH\n";

// The flags each command takes.
std::map<std::string, std::set<std::string>> BuildFlagsOf() {
  const std::set<std::string> client = {"master", "principal", "secret", "secret_file"};
  auto with = [&](std::set<std::string> more) {
    more.insert(client.begin(), client.end());
    return more;
  };
  return {
      {"state", with({"json"})},
      {"agents", with({"json"})},
      {"frameworks", with({"json", "all"})},
      {"tasks", with({"json", "all"})},
      {"logs", with({"framework", "stderr", "follow", "tail"})},
      {"kill", with({"framework", "timeout"})},
      {"run", {"master", "cpus", "mem", "name"}},
      {"modules", {"module_path"}},
      {"config", {"module_path", "daemon"}},
      {"keys", {"output", "force"}},
      {"image", {"name", "work_dir", "force", "json"}},
  };
}

const std::map<std::string, std::set<std::string>>& FlagsOf() {
  static const auto commands = BuildFlagsOf();
  return commands;
}

bool KnownFlag(const std::string& name) {
  for (const auto& [command, flags] : FlagsOf()) {
    if (flags.count(name)) return true;
  }
  return false;
}

int Usage(const std::string& error, bool full = false) {
  std::cerr << "keelctl: " << error << "\n";
  if (full) {
    std::cerr << kUsage;
  } else {
    std::cerr << "(keelctl --help shows the usage)\n";
  }
  return keel::keelctl::kExitUsage;
}

std::vector<std::string> SplitPath(const std::string& text) {
  std::vector<std::string> dirs;
  std::string current;
  for (char c : text + ":") {
    if (c == ':' || c == ',') {
      if (!current.empty()) dirs.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return dirs;
}

int Modules(const FlagMap& flags, const std::vector<std::string>& w) {
  auto it = flags.find("module_path");
  const auto path = it != flags.end() ? SplitPath(it->second) : keel::runtime::DefaultModulePath();
  if (w.size() == 2 && w[1] == "list") return keel::keelctl::ModulesList(path);
  if (w.size() == 3 && w[1] == "inspect") return keel::keelctl::ModulesInspect(path, w[2]);
  return Usage("modules: expected 'list' or 'inspect NAME'", true);
}

int Config(const FlagMap& flags, const std::vector<std::string>& w) {
  if (w.size() != 3 || w[1] != "check") return Usage("config: expected 'check FILE'", true);
  auto path = flags.find("module_path");
  auto daemon = flags.find("daemon");
  return keel::keelctl::ConfigCheck(
      w[2], daemon != flags.end() ? daemon->second : "",
      path != flags.end() ? SplitPath(path->second) : std::vector<std::string>{});
}

}  // namespace

int main(int argc, char** argv) {
  namespace kc = keel::keelctl;
  auto line = keel::runtime::ParseCommandLine(argc, argv,
                                              {"help", "force", "json", "all", "stderr", "follow"});
  if (!line.ok()) return Usage(line.status().message());
  FlagMap flags;
  for (const auto& flag : line->flags) {
    if (flag.name == "help") {
      std::cout << kUsage;
      return kc::kExitOk;
    }
    if (!KnownFlag(flag.name)) return Usage("unknown flag --" + flag.name);
    flags[flag.name] = flag.value;
  }
  const auto& w = line->words;
  if (w.empty()) return Usage("which command?", true);
  auto command = FlagsOf().find(w[0]);
  if (command == FlagsOf().end()) return Usage("unknown command '" + w[0] + "'", true);
  for (const auto& [name, value] : flags) {
    if (!command->second.count(name)) return Usage("'keelctl " + w[0] + "' takes no --" + name);
  }
  const std::vector<std::string> rest(w.begin() + 1, w.end());
  const std::string& c = w[0];
  if (c == "state" || c == "agents" || c == "frameworks" || c == "tasks") {
    if (!rest.empty()) return Usage(c + " takes no arguments");
    if (c == "state") return kc::State(flags);
    if (c == "agents") return kc::Agents(flags);
    if (c == "frameworks") return kc::Frameworks(flags);
    return kc::Tasks(flags);
  }
  if (c == "logs") return kc::Logs(flags, rest);
  if (c == "kill") return kc::Kill(flags, rest);
  if (c == "run") return kc::Run(flags, rest);
  if (c == "keys") return kc::Keys(flags, rest);
  if (c == "image") return kc::Image(flags, rest);
  if (c == "modules") return Modules(flags, w);
  return Config(flags, w);
}
