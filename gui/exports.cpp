#include "gui/exports.hpp"

#include <stdexcept>

#include "base/text_file.hpp"

namespace moesim::gui {

nlohmann::json placements_to_json(const std::string& scenario,
                                  const std::vector<sim::Placement>& placements) {
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t layer = 0; layer < placements.size(); ++layer) {
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& slots : placements[layer].slots) {
      nlohmann::json experts = nlohmann::json::array();
      for (int expert : slots)
        if (expert >= 0) experts.push_back(expert);
      gpus.push_back(std::move(experts));
    }
    layers.push_back({{"moe_layer", layer}, {"gpus", std::move(gpus)}});
  }
  return {{"scenario", scenario}, {"layers", std::move(layers)}};
}

bool try_write_text_file(const std::string& path, const std::string& text) {
  try {
    write_text_file(path, text);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

}  // namespace moesim::gui
