#pragma once
// What the explorer writes to disk (no Qt): placements as JSON, and text files written atomically,
// errors caught.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/placement/placement.hpp"

namespace moesim::gui {

// {"scenario": ..., "layers": [{"moe_layer": l, "gpus": [[expert, ...], ...]}, ...]}: each layer's
// "gpus" is the form an "explicit" placement file takes. Free slots are left out.
nlohmann::json placements_to_json(const std::string& scenario,
                                  const std::vector<sim::Placement>& placements);

// Writes through base/text_file.hpp's atomic writer; false when the file cannot be written.
bool try_write_text_file(const std::string& path, const std::string& text);

}  // namespace moesim::gui
