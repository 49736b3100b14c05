#include "kernel/runtime/credential_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "kernel/runtime/json_file.hpp"

namespace keel::runtime {

Result<config::Credential> ReadCredentialFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::Error(path + ": " + std::strerror(errno));
  }
  if (st.st_mode & (S_IRWXO | S_IWGRP)) {
    return Status::Error(path + ": holds a secret but others may read or change it (mode " +
                         std::to_string((st.st_mode >> 6) & 7) +
                         std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                         "); chmod 600 it");
  }
  config::Credential credential;
  if (auto s = ReadJsonFile(path, &credential); !s.ok()) return s;
  if (credential.principal().empty()) return Status::Error(path + ": field 'principal': missing");
  if (credential.secret().empty()) return Status::Error(path + ": field 'secret': missing");
  return credential;
}

}  // namespace keel::runtime
