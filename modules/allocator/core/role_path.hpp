// Hierarchical role names ("eng/ml"): a role's usage also counts toward each
// of its ancestors, so allocators walk role paths.
#pragma once

#include <string>
#include <vector>

namespace keel::modules {

// "eng/ml/a" -> {"eng", "eng/ml", "eng/ml/a"}; "*" -> {"*"}.
std::vector<std::string> SelfAndAncestors(const std::string& role);

// "eng/ml" -> "eng"; a top-level role -> "" (the root of the role tree).
std::string ParentRole(const std::string& role);

}  // namespace keel::modules
