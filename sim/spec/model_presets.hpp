#pragma once
// Built-in models, each with its source (docs/presets.md has the table).
#include <span>
#include <string_view>
#include <vector>

#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

const std::vector<ModelSpec>& model_presets();
const ModelSpec* find_model(std::string_view name);

}  // namespace moesim::sim
