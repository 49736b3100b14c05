// Resources in Mesos's "model" form, as its state endpoints print them:
// {"cpus": 2, "gpus": 0, "mem": 1024, "disk": 1024, "ports": "[31000-32000]"}.
// The four scalars are always there; ranges and sets are their text.
#pragma once

#include "keel/resources.hpp"
#include "kernel/runtime/json_writer.hpp"

namespace keel::runtime {

void WriteModelResources(JsonWriter& w, const Resources& resources);

}  // namespace keel::runtime
