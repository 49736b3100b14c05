// Reading the master's JSON answers (google::protobuf::Struct) without
// trusting their shape: optional fields read with a fallback, required ones
// as an Outcome whose Failure names what was missing and where.
#pragma once

#include <google/protobuf/struct.pb.h>

#include <string>
#include <vector>

#include "tools/keelctl/master_client.hpp"

namespace keel::keelctl {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// `text` as a JSON object; a Failure "<where> is not a JSON object: ..."
// otherwise.
Outcome<Struct> ParseObject(const std::string& text, const std::string& where);

// The field, or nullptr when it is absent.
const Value* Find(const Struct& object, const std::string& key);
// The object at `key`, or an empty one when it is absent or not an object.
const Struct& ObjectOr(const Struct& object, const std::string& key);
// A non-empty string field as is, a number or boolean as text; `fallback`
// otherwise.
std::string Text(const Struct& object, const std::string& key, const std::string& fallback = "-");
double Number(const Struct& object, const std::string& key, double fallback = 0);
bool Boolean(const Struct& object, const std::string& key, bool fallback = false);

// The objects of the list at `key`; a Failure "<where> has no '<key>' list"
// when there is none. Elements that are not objects are skipped.
Outcome<std::vector<const Struct*>> Objects(const Struct& object, const std::string& key,
                                            const std::string& where);
// The non-empty string at `key`, or a Failure "<where> has no '<key>'".
Outcome<std::string> RequiredText(const Struct& object, const std::string& key,
                                  const std::string& where);

// A quantity as people write it: 2, 0.1, 1024, 0.35 (at most 3 decimals).
std::string FormatNumber(double value);
// `values` as one compact JSON array, each object's keys sorted.
std::string JsonArray(const std::vector<const Struct*>& values);

}  // namespace keel::keelctl
