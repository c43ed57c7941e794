// Any bytes into the topology reader: a ConfigError is the only acceptable failure. A topology
// that passes validation must also answer every query without throwing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config_error.hpp"
#include "topology/bandwidth_queries.hpp"
#include "topology/routes.hpp"
#include "topology/topology_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto graph = moesim::topology::parse_topology(text, "fuzz.json");
    moesim::topology::Router router(graph);
    const auto gpus = static_cast<int>(graph.gpus().size());
    for (int a = 0; a < gpus && a < 8; ++a)
      for (int b = 0; b < gpus && b < 8; ++b) router.route(a, b);
    moesim::topology::injection_bandwidth(router, 0);
    moesim::topology::bisection_bandwidth(graph);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
