// Text pieces every JSON and HTTP writer in the kernel and tools shares: a
// JSON string literal with its escapes, and RFC 4648 base64 (protobuf bytes
// in JSON, HTTP Basic credentials).
#pragma once

#include <string>
#include <string_view>

namespace keel::runtime {

// Appends `text` as a quoted JSON string.
void AppendJsonString(std::string* out, std::string_view text);

// Standard alphabet, with padding.
std::string Base64(std::string_view in);

}  // namespace keel::runtime
