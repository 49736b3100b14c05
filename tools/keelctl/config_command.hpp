// `keelctl config check FILE`: asks the daemon the file is for to check it
// (`keel-master --check-config`), so the daemons stay the only authority on
// their configs.
#pragma once

#include <string>
#include <vector>

namespace keel::keelctl {

// `daemon` is "master", "agent" or "" (guessed from the file name).
int ConfigCheck(const std::string& file, std::string daemon,
                const std::vector<std::string>& module_path);

}  // namespace keel::keelctl
