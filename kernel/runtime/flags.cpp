#include "kernel/runtime/flags.hpp"

#include <algorithm>

namespace keel::runtime {

namespace {
std::string Normalise(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}
}  // namespace

Result<CommandLine> ParseCommandLine(int argc, const char* const argv[],
                                     const std::vector<std::string>& boolean_flags) {
  CommandLine line;
  bool only_words = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_words || arg.size() < 3 || arg.rfind("--", 0) != 0) {
      if (arg == "--") {
        only_words = true;
        continue;
      }
      if (!only_words && arg.size() > 1 && arg[0] == '-' && arg != "-") {
        return Status::Error("unrecognised argument '" + arg + "' (flags look like --name=value)");
      }
      line.words.push_back(arg);
      continue;
    }
    Flag flag;
    std::string body = arg.substr(2);
    if (auto eq = body.find('='); eq != std::string::npos) {
      flag.name = Normalise(body.substr(0, eq));
      flag.value = body.substr(eq + 1);
      flag.has_value = true;
    } else {
      flag.name = Normalise(body);
      bool is_bool =
          std::find(boolean_flags.begin(), boolean_flags.end(), flag.name) != boolean_flags.end();
      bool negated = flag.name.rfind("no_", 0) == 0 &&
                     std::find(boolean_flags.begin(), boolean_flags.end(), flag.name.substr(3)) !=
                         boolean_flags.end();
      if (negated) {
        flag.name = flag.name.substr(3);
        flag.value = "false";
      } else if (is_bool) {
        flag.value = "true";
      } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        flag.value = argv[++i];
        flag.has_value = true;
      } else {
        return Status::Error("flag --" + body + " needs a value (--" + body + "=VALUE)");
      }
    }
    if (flag.name.empty()) return Status::Error("empty flag name in '" + arg + "'");
    line.flags.push_back(std::move(flag));
  }
  return line;
}

}  // namespace keel::runtime
