// Physical-to-logical expert maps: SGLang's --init-expert-location files and recorder dumps,
// vLLM's EplbState.physical_to_logical_map saved with torch.save or numpy.save.
#include <fmt/format.h>

#include <filesystem>

#include "base/strict_json.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import_stacks.hpp"

namespace moesim::sim {
namespace {

void check_map_shape(std::uint64_t layers, std::uint64_t slots, const std::string& source,
                     std::uint64_t offset) {
  if (layers == 0 || layers > static_cast<std::uint64_t>(kMaxLayers) || slots == 0 ||
      slots > static_cast<std::uint64_t>(kMaxExpertSlots))
    throw TraceError(source, offset,
                     fmt::format("expected a [layers, physical slots] map with 1 to {} layers and "
                                 "1 to {} slots, got [{}, {}]",
                                 kMaxLayers, kMaxExpertSlots, layers, slots));
}

ExpertMap map_from_json(const std::string& path) {
  const auto json = parse_strict_json(read_text_file(path), path);
  const auto* rows = json.is_object() && json.contains("physical_to_logical_map")
                         ? &json["physical_to_logical_map"]
                         : nullptr;
  if (rows == nullptr || !rows->is_array() || rows->empty())
    throw ConfigError(path, {{"/physical_to_logical_map",
                              "expected an array of per-layer rows of logical expert ids"}});
  ExpertMap map;
  for (std::size_t l = 0; l < rows->size(); ++l) {
    const auto& row = (*rows)[l];
    const std::string where = fmt::format("/physical_to_logical_map/{}", l);
    if (!row.is_array() || row.empty() || row.size() != (*rows)[0].size())
      throw ConfigError(
          path,
          {{where, fmt::format("expected {} logical expert ids (as row 0)", (*rows)[0].size())}});
    auto& ids = map.physical_to_logical.emplace_back();
    for (std::size_t p = 0; p < row.size(); ++p) {
      if (!row[p].is_number_integer() || row[p].get<std::int64_t>() < 0 ||
          row[p].get<std::int64_t>() >= kMaxExperts)
        throw ConfigError(path, {{fmt::format("{}/{}", where, p),
                                  fmt::format("expected a logical expert id in [0, {}), got {}",
                                              kMaxExperts, describe_json_value(row[p]))}});
      ids.push_back(row[p].get<std::int64_t>());
    }
  }
  check_map_shape(map.physical_to_logical.size(), map.physical_to_logical[0].size(), path, 0);
  return map;
}

// Rows of a 2-D (or one row of a 1-D) integer table, each id checked.
template <typename At>
ExpertMap map_from_table(std::uint64_t layers, std::uint64_t slots, At at,
                         const std::string& source, std::uint64_t offset) {
  check_map_shape(layers, slots, source, offset);
  ExpertMap map;
  for (std::uint64_t l = 0; l < layers; ++l) {
    auto& row = map.physical_to_logical.emplace_back();
    for (std::uint64_t p = 0; p < slots; ++p) {
      const std::int64_t id = at(l * slots + p);
      if (id < 0 || id >= kMaxExperts)
        throw TraceError(source, offset,
                         fmt::format("layer {} slot {}: expected a logical expert id in [0, {}), "
                                     "got {}",
                                     l, p, kMaxExperts, id));
      row.push_back(id);
    }
  }
  return map;
}

}  // namespace

ExpertMap expert_map_from_torch(const TorchArchive& archive) {
  const auto& document = archive.document;
  const auto* value = &document.root_value();
  for (const char* key : {"physical_to_logical_map", "last_physical_to_logical_map"})
    if (const auto* found = document.find(*value, key)) {
      value = found;
      break;
    }
  const auto tensor = integer_tensor(archive, *value, "physical_to_logical_map");
  if (tensor.shape.size() != 1 && tensor.shape.size() != 2)
    throw TraceError(archive.source, value->offset,
                     fmt::format("physical_to_logical_map: expected [layers, physical slots], got "
                                 "{} dimensions",
                                 tensor.shape.size()));
  const auto layers = tensor.shape.size() == 2 ? static_cast<std::uint64_t>(tensor.shape[0]) : 1;
  return map_from_table(
      layers, static_cast<std::uint64_t>(tensor.shape.back()),
      [&](std::uint64_t i) { return tensor.values[i]; },
      fmt::format("{} (entry {})", archive.source, archive.pickle_entry), value->offset);
}

ExpertMap read_expert_map(const std::string& path) {
  const auto extension = std::filesystem::path(path).extension().string();
  if (extension == ".json") return map_from_json(path);
  if (extension == ".npy") {
    const NpyArray array = read_npy(path);
    if (array.shape.size() != 1 && array.shape.size() != 2)
      throw TraceError(path, 0,
                       fmt::format("expected a [layers, physical slots] map, got {} dimensions",
                                   array.shape.size()));
    const auto layers = array.shape.size() == 2 ? array.shape[0] : 1;
    return map_from_table(
        layers, array.shape.back(), [&](std::uint64_t i) { return array.at(i); }, path,
        array.data_offset);
  }
  return expert_map_from_torch(read_torch_archive(path));
}

bool is_expert_map_file(const std::string& path) {
  const auto extension = std::filesystem::path(path).extension().string();
  if (extension == ".pt" || extension == ".pth" || extension == ".npy") return true;
  if (extension != ".json") return false;
  const auto json = parse_strict_json(read_text_file(path), path);
  return json.is_object() && json.contains("physical_to_logical_map");
}

}  // namespace moesim::sim
