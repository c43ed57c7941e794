// libFuzzer target: arbitrary bytes through the pickle reader torch.save archives are read with;
// then every dict lookup and tensor description the importers make on the result.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sim/traces/format.hpp"
#include "sim/traces/pickle_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto document = moesim::sim::parse_pickle(std::as_bytes(std::span(data, size)), "fuzz");
    // every index a value holds must point into the arena
    for (const auto& value : document.values)
      for (const auto item : value.items)
        if (item >= document.values.size()) __builtin_trap();
    for (const auto& value : document.values)
      if ((value.kind == moesim::sim::PickleKind::Tensor ||
           value.kind == moesim::sim::PickleKind::Storage) &&
          static_cast<std::size_t>(value.integer) >= document.tensors.size())
        __builtin_trap();
    document.find(document.root_value(), "logical_count");
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
