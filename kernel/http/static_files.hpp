// Static files under a URL prefix (the master's web UI): GET only, the
// directory's index.html for the prefix itself, a content type from the
// file's extension. A path that leaves the directory (`..`, a symlink
// pointing out) is refused with 403, a missing file 404.
#pragma once

#include <string>

namespace keel::http {

class Server;

// Serves `dir` at `prefix` ("/"), behind every exact route.
void ServeStaticFiles(Server& server, const std::string& prefix, const std::string& dir);

}  // namespace keel::http
