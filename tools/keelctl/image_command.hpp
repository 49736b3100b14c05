// `keelctl image import|list|remove`: the container images an agent's `oci`
// containerizer runs, in its image store (<work_dir>/modules/oci/images/,
// modules/containerizer/oci/README.md). keelctl works on the store's files
// directly, through the containerizer's own ImageStore: run it on the
// agent's machine, as the user the agent runs as (root).
//
//   keelctl image import PATH --name=NAME[:TAG] [--force] [--work_dir=DIR]
//       PATH: an OCI image layout directory or a `docker save` tarball
//       (plain or gzip). --force replaces an image of that name and tag.
//   keelctl image list [--json] [--work_dir=DIR]
//   keelctl image remove NAME[:TAG] [--work_dir=DIR]
//
// --work_dir is the agent's (default /var/lib/keel/agent).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace keel::keelctl {

inline constexpr const char* kDefaultAgentWorkDir = "/var/lib/keel/agent";

// `flags`: name, work_dir, force, json. `words`: after `image`.
// Returns 0 on success, 1 when the operation failed, 2 on bad usage, 4 when
// PATH or the image does not exist.
int Image(const std::map<std::string, std::string>& flags, const std::vector<std::string>& words);

}  // namespace keel::keelctl
