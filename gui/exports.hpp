#pragma once
// What the explorer writes to disk (no Qt): placements as JSON, and text files with errors caught.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/placement.hpp"

namespace moesim::gui {

// {"scenario": ..., "layers": [{"moe_layer": l, "gpus": [[expert, ...], ...]}, ...]}: each layer's
// "gpus" is the form an "explicit" placement file takes. Free slots are left out.
nlohmann::json placements_to_json(const std::string& scenario,
                                  const std::vector<sim::Placement>& placements);

// False when the file cannot be written.
bool write_text_file(const std::string& path, const std::string& text);

}  // namespace moesim::gui
