// The credentials file, in Mesos's format (`--credentials` of mesos-master):
//
//   {"credentials": [{"principal": "ops", "secret": "..."}, ...]}
//
// Read once, when the authenticator is made. A file that others may read, or
// that group or others may change, is refused: it holds secrets, or hashes
// that can be attacked offline, and whoever may write it may log in as anyone.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "keel/status.hpp"
#include "modules/authenticator/basic/secret_check.hpp"

namespace keel::modules {

// Principal to secret; principals are unique.
using CredentialMap = std::map<std::string, StoredSecret, std::less<>>;

// Reads and checks the file at `path`. On failure the message names the file
// and, where one is at fault, the field ("/etc/keel/credentials.json:
// credentials[1].principal: missing"); it never quotes a secret.
Result<CredentialMap> ReadCredentialsFile(const std::string& path);

}  // namespace keel::modules
