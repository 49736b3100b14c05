// Mesos's rules for role names, which operators' weights and quotas name.
//
// A role is "*" (the default role) or a path of components separated by '/'
// ("eng/frontend": a sub-role of "eng"). A component is not empty, not "."
// or "..", not "*", does not start with '-', and holds no whitespace,
// backslash or control character.
#pragma once

#include <optional>
#include <string>

namespace keel::master {

// Why `role` is not a valid role name, or nothing.
std::optional<std::string> InvalidRoleReason(const std::string& role);

// True when `role` is `ancestor` or one of its sub-roles.
bool IsSelfOrSubRole(const std::string& role, const std::string& ancestor);

}  // namespace keel::master
