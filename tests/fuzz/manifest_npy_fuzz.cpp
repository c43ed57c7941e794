// libFuzzer target: arbitrary text through the .npy manifest importer ({"experts", "files"} or
// {"experts", "pattern", "steps", "layers", "ranks"}), draining every block. The manifest sits in a
// scratch directory holding a.npy [3, 2], b.npy [2, 2], c.npy [4] and empty.npy [0, 2] (ids < 4),
// so the loading of listed files is reached as well as the parsing.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"
#include "tests/fuzz/npy_scratch.hpp"

namespace {

// The harness reads only inside its scratch directory: an absolute path or ".." could name a
// device (/dev/zero reads forever), which is not the importer's input to fuzz.
bool stays_inside(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    return text.find("..") == std::string::npos && (text.empty() || text.front() != '/');
  }
  if (value.is_array() || value.is_object())
    for (const auto& child : value)
      if (!stays_inside(child)) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string manifest =
      (moesim::fuzz::npy_scratch_dir("manifest-fuzz") / "manifest.json").string();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_discarded() && !stays_inside(parsed)) return 0;
  try {
    auto source = moesim::sim::open_npy_manifest(manifest, text, {});
    const auto shape = source->shape();
    moesim::sim::TraceBlock block;
    // a valid pattern may name 2^40 blocks of one small file: a few thousand reach every branch
    for (int blocks = 0; blocks < 4096 && source->next(block); ++blocks)
      if (block.expert_ids.size() != std::size_t{block.tokens} * shape.top_k) __builtin_trap();
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
