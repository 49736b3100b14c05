// keelctl: the operator's command-line tool.
#include <iostream>
#include <map>

#include "kernel/runtime/flags.hpp"
#include "kernel/runtime/module_registry.hpp"
#include "tools/keelctl/config_command.hpp"
#include "tools/keelctl/keys_command.hpp"
#include "tools/keelctl/modules_command.hpp"
#include "tools/keelctl/run_command.hpp"

namespace {

constexpr const char* kUsage =
    "Usage:\n"
    "  keelctl modules list [--module_path=DIR[:DIR...]]\n"
    "  keelctl modules inspect NAME [--module_path=DIR[:DIR...]]\n"
    "  keelctl config check FILE [--daemon=master|agent] [--module_path=DIR[:DIR...]]\n"
    "  keelctl run --master=HOST:PORT [--cpus=0.1] [--mem=32] [--name=NAME] -- COMMAND [ARGS...]\n"
    "  keelctl keys generate --output=PATH [--force]\n";

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

}  // namespace

int main(int argc, char** argv) {
  auto line = keel::runtime::ParseCommandLine(argc, argv, {"help", "force"});
  if (!line.ok()) {
    std::cerr << "keelctl: " << line.status().message() << "\n" << kUsage;
    return 2;
  }
  std::vector<std::string> module_path;
  bool module_path_given = false;
  std::string daemon;
  std::map<std::string, std::string> run_flags;   // only `run` takes them
  std::map<std::string, std::string> keys_flags;  // only `keys` takes them
  for (const auto& flag : line->flags) {
    if (flag.name == "help") {
      std::cout << kUsage;
      return 0;
    } else if (flag.name == "module_path") {
      module_path = SplitPath(flag.value);
      module_path_given = true;
    } else if (flag.name == "daemon") {
      daemon = flag.value;
    } else if (flag.name == "master" || flag.name == "cpus" || flag.name == "mem" ||
               flag.name == "name") {
      run_flags[flag.name] = flag.value;
    } else if (flag.name == "output" || flag.name == "force") {
      keys_flags[flag.name] = flag.value;
    } else {
      std::cerr << "keelctl: unknown flag --" << flag.name << "\n" << kUsage;
      return 2;
    }
  }
  const auto& w = line->words;
  if (!keys_flags.empty() && (w.empty() || w[0] != "keys")) {
    std::cerr << "keelctl: --" << keys_flags.begin()->first << " is only for 'keelctl keys'\n"
              << kUsage;
    return 2;
  }
  if (!w.empty() && w[0] == "run") {
    return keel::keelctl::Run(run_flags, {w.begin() + 1, w.end()});
  }
  if (!run_flags.empty()) {
    std::cerr << "keelctl: --" << run_flags.begin()->first << " is only for 'keelctl run'\n"
              << kUsage;
    return 2;
  }
  if (!w.empty() && w[0] == "keys")
    return keel::keelctl::Keys(keys_flags, {w.begin() + 1, w.end()});
  if (w.size() == 2 && w[0] == "modules" && w[1] == "list") {
    return keel::keelctl::ModulesList(module_path_given ? module_path
                                                        : keel::runtime::DefaultModulePath());
  }
  if (w.size() == 3 && w[0] == "modules" && w[1] == "inspect") {
    return keel::keelctl::ModulesInspect(
        module_path_given ? module_path : keel::runtime::DefaultModulePath(), w[2]);
  }
  if (w.size() == 3 && w[0] == "config" && w[1] == "check") {
    return keel::keelctl::ConfigCheck(w[2], daemon, module_path);
  }
  std::cerr << kUsage;
  return 2;
}
