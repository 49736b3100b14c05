#include "kernel/runtime/model_resources_json.hpp"

namespace keel::runtime {

void WriteModelResources(JsonWriter& w, const Resources& r) {
  w.BeginObject();
  for (const char* name : {"cpus", "gpus", "mem", "disk"}) w.Field(name, r.GetScalar(name).value());
  for (const std::string& name : r.Names()) {
    if (name == "cpus" || name == "gpus" || name == "mem" || name == "disk") continue;
    Ranges ranges = r.GetRanges(name);
    if (!ranges.empty()) {
      w.Field(name, ranges.ToString());
    } else {
      w.Field(name, r.GetScalar(name).value());
    }
  }
  w.EndObject();
}

}  // namespace keel::runtime
