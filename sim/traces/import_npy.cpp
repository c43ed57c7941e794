// NumPy id arrays [tokens, top_k]: one file, or one per layer (and rank) through a manifest.
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <optional>

#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {
namespace {

void check_id_shape(const NpyArray& array, const std::string& source) {
  if (array.shape.size() != 1 && array.shape.size() != 2)
    throw TraceError(
        source, 0,
        fmt::format("expected a [tokens, top_k] or [tokens] array of expert ids, got {} "
                    "dimensions",
                    array.shape.size()));
  if (array.shape.size() == 2 &&
      (array.shape[1] == 0 || array.shape[1] > static_cast<std::uint64_t>(kMaxTopK)))
    throw TraceError(source, 0,
                     fmt::format("expected top_k (the second dimension) in [1, {}], got {}",
                                 kMaxTopK, array.shape[1]));
  if (array.shape[0] > static_cast<std::uint64_t>(kMaxTokensPerBlock))
    throw TraceError(source, 0,
                     fmt::format("expected at most {} tokens (docs/limits.md), got {}",
                                 kMaxTokensPerBlock, array.shape[0]));
  const std::uint64_t top_k = array.shape.size() == 2 ? array.shape[1] : 1;
  if (array.shape[0] * top_k >
      static_cast<std::uint64_t>(kMaxChoicesPerBlock))  // < 2^24 x 2^8: no wrap
    throw TraceError(source, 0,
                     fmt::format("expected tokens x top_k <= {} (docs/limits.md), got {} x {}",
                                 kMaxChoicesPerBlock, array.shape[0], top_k));
}

std::uint64_t element_offset(const NpyArray& array, std::uint64_t index) {
  return array.data_offset + index * static_cast<std::uint64_t>(array.item_bytes);
}

// The files of each (step, layer), concatenated in order when a layer is split over ranks: a
// table for "files", names made on demand for "pattern" (a short manifest may name millions of
// files, which are never all held).
struct ManifestFiles {
  std::size_t steps = 0;
  std::size_t layers = 0;
  std::function<std::vector<std::string>(std::size_t step, std::size_t layer)> of;
};

class ManifestSource : public RoutingSource {
 public:
  ManifestSource(ManifestFiles files, std::uint32_t experts)
      : files_(std::move(files)), experts_(experts) {
    TraceBlock first;
    load(0, 0, first);  // sets top_k_ and reports a bad first file before any block is asked for
  }
  TraceShape shape() const override {
    return {static_cast<std::uint32_t>(files_.layers), experts_, top_k_, ScoreType::None};
  }
  bool next(TraceBlock& block) override {
    if (step_ == files_.steps) return false;
    load(step_, layer_, block);
    if (++layer_ == files_.layers) layer_ = 0, ++step_;
    return true;
  }
  void rewind() override { step_ = layer_ = 0; }

 private:
  void load(std::size_t step, std::size_t layer, TraceBlock& block) {
    block =
        TraceBlock{static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(layer), 0, {}, {}};
    for (const auto& path : files_.of(step, layer)) {
      const NpyArray array = read_npy(path);
      TraceBlock part = npy_to_block(array, path, experts_);
      // top_k from the array's shape, so a file without tokens still has one
      const auto width = static_cast<std::uint32_t>(array.shape.size() == 2 ? array.shape[1] : 1);
      if (top_k_ == 0) top_k_ = width;
      if (width != top_k_)
        throw TraceError(
            path, 0,
            fmt::format("expected top_k {} like the manifest's first file, got {}", top_k_, width));
      if (std::uint64_t{block.tokens} + part.tokens > UINT32_MAX)
        throw TraceError(
            path, 0,
            fmt::format("expected at most {} tokens in step {} layer {} over all ranks", UINT32_MAX,
                        step, layer));
      block.tokens += part.tokens;
      block.expert_ids.insert(block.expert_ids.end(), part.expert_ids.begin(),
                              part.expert_ids.end());
    }
  }

  ManifestFiles files_;
  std::uint32_t experts_;
  std::uint32_t top_k_ = 0;
  std::size_t step_ = 0;
  std::size_t layer_ = 0;
};

std::string substitute(std::string pattern, std::string_view key, std::size_t value) {
  const std::string token = fmt::format("{{{}}}", key);
  for (auto at = pattern.find(token); at != std::string::npos; at = pattern.find(token))
    pattern.replace(at, token.size(), std::to_string(value));
  return pattern;
}

}  // namespace

std::uint32_t npy_experts_needed(const NpyArray& array, const std::string& source) {
  check_id_shape(array, source);
  std::int64_t largest = -1;
  for (std::uint64_t i = 0; i < array.elements(); ++i) {
    const auto id = array.at(i);
    if (id < 0 || id >= kMaxExperts)
      throw TraceError(source, element_offset(array, i),
                       fmt::format("expected an expert id in [0, {}) (docs/limits.md), got {}",
                                   kMaxExperts, id));
    largest = std::max(largest, id);
  }
  return static_cast<std::uint32_t>(largest + 1);
}

TraceBlock npy_to_block(const NpyArray& array, const std::string& source, std::uint32_t experts) {
  check_id_shape(array, source);
  const std::uint64_t tokens = array.shape[0];
  const std::uint64_t top_k = array.shape.size() == 2 ? array.shape[1] : 1;
  if (top_k > experts)
    throw TraceError(source, 0,
                     fmt::format("expected top_k <= experts {}, got {}", experts, top_k));
  TraceBlock block{0, 0, static_cast<std::uint32_t>(tokens), {}, {}};
  block.expert_ids.resize(tokens * top_k);
  for (std::uint64_t i = 0; i < tokens * top_k; ++i) {
    const auto id = array.at(i);
    if (id < 0 || id >= static_cast<std::int64_t>(experts))
      throw TraceError(source, element_offset(array, i),
                       fmt::format("token {} choice {}: expected an expert id in [0, {}), got {}",
                                   i / top_k, i % top_k, experts, id));
    block.expert_ids[i] = static_cast<std::uint32_t>(id);
  }
  for (std::uint64_t t = 0; t < tokens; ++t) {
    const std::span<const std::uint32_t> ids(&block.expert_ids[t * top_k], top_k);
    if (auto problem = check_token_choices(ids, experts); !problem.empty())
      throw TraceError(source, element_offset(array, t * top_k),
                       fmt::format("token {}: {}", t, problem));
  }
  return block;
}

std::unique_ptr<RoutingSource> open_npy_manifest(const std::string& path, const std::string& text,
                                                 const ImportOptions& options) {
  const auto json = parse_strict_json(text, path);
  ProblemList problems;
  FieldReader fields(json, "", problems);
  const auto experts =
      fields.integer("experts", 1, kMaxExperts,
                     options.experts ? std::optional<std::int64_t>(options.experts) : std::nullopt);
  const auto base = std::filesystem::path(path).parent_path();
  auto resolve = [base](const std::string& file) { return (base / file).string(); };
  ManifestFiles manifest;
  if (fields.has("files")) {
    using FileTable = std::vector<std::vector<std::vector<std::string>>>;  // [step][layer][rank]
    FileTable table;
    const auto* files = fields.child("files", true);
    // step 0's layer count, once step 0 is known good: every later step must match it
    std::optional<std::size_t> layers_in_step0;
    if (!files->is_array() || files->empty())
      problems.add("/files", "expected a non-empty array of steps");
    else
      for (std::size_t s = 0; s < files->size(); ++s) {
        const auto& step = (*files)[s];
        const std::string where = fmt::format("/files/{}", s);
        const bool matches_step0 = !layers_in_step0 || step.size() == *layers_in_step0;
        if (!step.is_array() || step.empty() || !matches_step0) {
          problems.add(
              where,
              fmt::format(
                  "expected an array with one entry per layer{} (files is [step][layer]), got {}",
                  layers_in_step0 ? fmt::format(" ({}, as in step 0)", *layers_in_step0) : "",
                  describe_json_value(step)));
          continue;
        }
        if (s == 0 && step.size() > static_cast<std::size_t>(kMaxLayers)) {
          problems.add(where, fmt::format("expected at most {} layers (docs/limits.md), got {}",
                                          kMaxLayers, step.size()));
          break;
        }
        if (s == 0) layers_in_step0 = step.size();
        auto& layers = table.emplace_back();
        for (std::size_t l = 0; l < step.size(); ++l) {
          const auto& entry = step[l];
          auto& ranks = layers.emplace_back();
          if (entry.is_string())
            ranks.push_back(resolve(entry.get<std::string>()));
          else if (entry.is_array() && !entry.empty() &&
                   std::all_of(entry.begin(), entry.end(),
                               [](const auto& f) { return f.is_string(); }))
            for (const auto& f : entry) ranks.push_back(resolve(f.get<std::string>()));
          else
            problems.add(fmt::format("{}/{}", where, l),
                         "expected a file name or an array of per-rank file names");
        }
      }
    std::size_t named = 0;
    for (const auto& step : table)
      for (const auto& layer : step) named += layer.size();
    if (named > static_cast<std::size_t>(kMaxManifestFiles))
      problems.add("/files", fmt::format("expected at most {} files over all steps, layers and "
                                         "ranks (docs/limits.md), got {}",
                                         kMaxManifestFiles, named));
    if (problems.empty() && !table.empty()) {
      manifest.steps = table.size();
      manifest.layers = table.front().size();
      manifest.of = [table = std::move(table)](std::size_t s, std::size_t l) {
        return table[s][l];
      };
    }
  } else {
    const std::string pattern = fields.string("pattern");
    const auto steps = fields.integer("steps", 1, 1 << 24, 1);
    const auto layers = fields.integer("layers", 1, kMaxLayers);
    const auto ranks = fields.integer("ranks", 1, 1 << 16, 1);
    // Each factor is at most 2^24: the product of three fits in a double exactly enough.
    if (static_cast<double>(steps) * static_cast<double>(layers) * static_cast<double>(ranks) >
        static_cast<double>(kMaxManifestFiles))
      problems.add("/steps", fmt::format("expected steps x layers x ranks <= {} files (docs/"
                                         "limits.md), got {} x {} x {}",
                                         kMaxManifestFiles, steps, layers, ranks));
    manifest.steps = static_cast<std::size_t>(steps);
    manifest.layers = static_cast<std::size_t>(layers);
    manifest.of = [pattern, ranks, resolve](std::size_t s, std::size_t l) {
      std::vector<std::string> files;
      for (std::int64_t r = 0; r < ranks; ++r)
        files.push_back(resolve(substitute(substitute(substitute(pattern, "step", s), "layer", l),
                                           "rank", static_cast<std::size_t>(r))));
      return files;
    };
  }
  fields.finish();
  problems.throw_if_any(path);
  return std::make_unique<ManifestSource>(std::move(manifest), static_cast<std::uint32_t>(experts));
}

}  // namespace moesim::sim
