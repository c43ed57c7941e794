// .npy manifests, structure-aware: {"experts", "files"} with nested lists of the scratch
// directory's files (or names of none), or {"experts", "pattern", "steps", "layers", "ranks"} with
// boundary values (2^32 steps, -1 ranks, ...), opened and drained for a few thousand blocks. Only
// a ConfigError may come out, and every block must hold tokens x top_k ids.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"
#include "tests/fuzz/fuzz_values.hpp"
#include "tests/fuzz/npy_scratch.hpp"

namespace {

constexpr const char* kNames[] = {"a.npy", "b.npy", "c.npy", "empty.npy", "missing.npy", ""};

// A file name, or a list of them (a layer's ranks), or a list of lists (a step's layers).
nlohmann::json fuzzed_files(FuzzedDataProvider& in, int depth) {
  if (depth == 0 || in.ConsumeIntegralInRange(0, 3) == 0) return in.PickValueInArray(kNames);
  nlohmann::json list = nlohmann::json::array();
  const int entries = in.ConsumeIntegralInRange(0, 5);
  for (int i = 0; i < entries; ++i) list.push_back(fuzzed_files(in, depth - 1));
  return list;
}

nlohmann::json fuzzed_manifest(FuzzedDataProvider& in) {
  nlohmann::json manifest = nlohmann::json::object();
  if (in.ConsumeIntegralInRange(0, 3) > 0)
    manifest["experts"] =
        in.ConsumeBool() ? nlohmann::json(4) : moesim::fuzz::interesting_value(in);
  if (in.ConsumeBool()) {
    manifest["files"] = fuzzed_files(in, 3);
  } else {
    const char* patterns[] = {"a.npy", "{step}.npy", "{layer}{rank}.npy", "{step}/{layer}.npy"};
    manifest["pattern"] = in.PickValueInArray(patterns);
    for (const char* field : {"steps", "layers", "ranks"})
      if (in.ConsumeBool())
        manifest[field] = in.ConsumeBool() ? nlohmann::json(in.ConsumeIntegralInRange(0, 4))
                                           : moesim::fuzz::interesting_value(in);
  }
  return manifest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string manifest_path =
      (moesim::fuzz::npy_scratch_dir("manifest-shape-fuzz") / "manifest.json").string();
  FuzzedDataProvider in(data, size);
  const std::string text = moesim::fuzz::dump(fuzzed_manifest(in));
  try {
    auto source = moesim::sim::open_npy_manifest(manifest_path, text, {});
    const auto shape = source->shape();
    moesim::sim::TraceBlock block;
    for (int blocks = 0; blocks < 4096 && source->next(block); ++blocks)
      if (block.expert_ids.size() != std::size_t{block.tokens} * shape.top_k) __builtin_trap();
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
