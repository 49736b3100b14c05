// Conversions between JSON values (google.protobuf.Value) and typed module
// parameters, shared by manifest defaults and config parameters so both are
// read by the same rules.
#pragma once

#include <string>

#include "keel/parameters.hpp"
#include "keel/status.hpp"

namespace google::protobuf {
class Value;
}

namespace keel::runtime {

// Reads `value` as `type`; the error says what was expected and what came.
Result<Parameters::Value> ParameterFromJson(const google::protobuf::Value& value,
                                            ParameterType type);
// A short JSON rendering for messages and listings ("\"1s\"", "42", "[\"a\"]").
std::string JsonValueText(const google::protobuf::Value& value);

}  // namespace keel::runtime
