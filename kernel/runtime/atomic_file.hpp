// Replacing a state file so that a crash at any moment leaves either the old
// content or the new, never a mix: write a temp file beside it, fsync it,
// rename it over the old one, fsync the directory (DESIGN: state that must
// survive).
#pragma once

#include <string>

#include "keel/status.hpp"

namespace keel::runtime {

Status WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace keel::runtime
