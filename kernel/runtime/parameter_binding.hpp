// Checks the parameters a config gives a module against the module's
// manifest and turns them into typed Parameters, defaults filled in.
#pragma once

#include <string>
#include <vector>

#include "keel/parameters.hpp"
#include "kernel/runtime/manifest.hpp"

namespace google::protobuf {
class Struct;
}

namespace keel::runtime {

// `where` prefixes every error ("master.json: allocator.parameters").
// Returns the parameters, or one error line per problem: unknown parameter,
// missing required parameter, wrong type.
Result<Parameters> BindParameters(const Manifest& manifest, const google::protobuf::Struct& given,
                                  const std::string& where, std::vector<std::string>* errors);

}  // namespace keel::runtime
