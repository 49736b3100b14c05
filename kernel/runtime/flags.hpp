// Command-line flags in Mesos's style: `--name=value`, `--name value`,
// `--flag` / `--no-flag` for booleans. `-` and `_` in names are the same, so
// `--work-dir` and `--work_dir` both work.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "keel/status.hpp"

namespace keel::runtime {

struct Flag {
  std::string name;   // normalised: '-' replaced by '_'
  std::string value;  // "true"/"false" for --flag/--no-flag without a value
  bool has_value = false;
};

struct CommandLine {
  std::vector<Flag> flags;         // in order given
  std::vector<std::string> words;  // arguments that are not flags
};

// `boolean_flags` are the names that never take a separate value word.
Result<CommandLine> ParseCommandLine(int argc, const char* const argv[],
                                     const std::vector<std::string>& boolean_flags);

}  // namespace keel::runtime
