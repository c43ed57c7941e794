#include "sim/spec/network_work.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

// A tiny custom model (so no memory check matters) of `experts` experts over `moe_layers` layers,
// EP `ep` on `nodes` HGX H200 nodes (8 GPUs each), with an optional network section.
std::string scenario(int experts, int moe_layers, int ep, int nodes, const std::string& network) {
  return "{\"schema_version\": 1, \"model\": {\"layers\": " + std::to_string(moe_layers) +
         ", \"moe_layers\": " + std::to_string(moe_layers) +
         ", \"hidden\": 64, \"expert_ffn\": 64, \"experts\": " + std::to_string(experts) +
         ", \"top_k\": 2}, \"cluster\": {\"system\": \"hgx-h200\", \"nodes\": " +
         std::to_string(nodes) + "}, \"parallelism\": {\"expert_parallel\": " + std::to_string(ep) +
         "}" + (network.empty() ? "" : ", \"network\": " + network) + "}";
}

std::string parse_error(const std::string& text) {
  try {
    parse_scenario(text, "s.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(NetworkWork, AutoPlaysFlowsOnlyWithinTheirBounds) {
  // EP 2048: 2^22 pairs, at the pair bound. 16 layers x 2^22 = 2^26 pair-layers fit; 17 do not.
  EXPECT_TRUE(flow_work_fits(parse_scenario(scenario(2048, 16, 2048, 256, ""), "s.json")));
  EXPECT_FALSE(flow_work_fits(parse_scenario(scenario(2048, 17, 2048, 256, ""), "s.json")));
  // EP 4096: 2^24 pairs hold 16 GB of routes, past the bound at any layer count.
  EXPECT_FALSE(flow_work_fits(parse_scenario(scenario(4096, 1, 4096, 512, ""), "s.json")));
  // EP 8 on 16,384 nodes (131,072 GPUs = 2^17): 32 layers x 2^17 = 2^22 GPU-layers fit, 33 not.
  EXPECT_TRUE(flow_work_fits(parse_scenario(scenario(8, 32, 8, 16384, ""), "s.json")));
  EXPECT_FALSE(flow_work_fits(parse_scenario(scenario(8, 33, 8, 16384, ""), "s.json")));
  // A cluster of at most 64 GPUs plays every EP group: 64 GPUs at EP 8 are 64^2 pairs.
  EXPECT_EQ(flow_pairs(parse_scenario(scenario(8, 1, 8, 8, ""), "s.json")), 64 * 64);
}

TEST(NetworkWork, RunsPastTheBoundsAreRefusedWithTheField) {
  // EP 4096 x 64 layers (4096 x 64 = 2^18 expert cells, inside that bound) = 2^30 > 2^28.
  EXPECT_EQ(parse_error(scenario(4096, 64, 4096, 512, "")),
            "s.json: /parallelism/expert_parallel: expected moe_layers x expert_parallel x "
            "max(expert_parallel, expert slots) <= 268435456 (each layer plans its all-to-all pair "
            "by pair and its experts rank by rank; docs/limits.md), got 64 x 4096 x 4096 = "
            "1073741824");
  // EP 8 with 8,192 experts x 32 layers: 32 x 8 x 8192 = 2^21, far inside; the slots count when
  // wider than EP: EP 2048 x 8192 slots x 32 layers = 2^29 is refused.
  EXPECT_EQ(parse_error(scenario(8192, 32, 8, 1, "")), "(no error)");
  EXPECT_EQ(parse_error(scenario(8192, 32, 2048, 256, "")),
            "s.json: /parallelism/expert_parallel: expected moe_layers x expert_parallel x "
            "max(expert_parallel, expert slots) <= 268435456 (each layer plans its all-to-all pair "
            "by pair and its experts rank by rank; docs/limits.md), got 32 x 2048 x 8192 = "
            "536870912");
  // "flow" asked for where "auto" would fall back: 2^22 pairs x 32 layers = 2^27 pair-layers.
  EXPECT_EQ(parse_error(scenario(2048, 32, 2048, 256, R"({"model": "flow"})")),
            "s.json: /network/model: expected \"flow\" within the flow model's bounds: flows over "
            "4194304 GPU pairs x 32 MoE layers on 2048 GPUs exceed them (at most 4194304 pairs, "
            "67108864 pair-layers, 4194304 GPU-layers; docs/limits.md); \"auto\" prices them "
            "analytically");
  EXPECT_EQ(parse_error(scenario(2048, 16, 2048, 256, R"({"model": "flow"})")), "(no error)");
}

TEST(NetworkWork, ATopologyFilePastTheFlowBoundsIsRefusedNotIgnored) {
  // Only flows read a topology file, so "auto" past the bounds would price the cluster preset
  // instead. 2,048 GPUs on one NVSwitch (one scale-up domain), EP 2,048: 2^22 pairs x 17 layers >
  // 2^26 pair-layers.
  const auto path =
      (std::filesystem::temp_directory_path() / "moesim_network_work_topology.json").string();
  {
    std::ofstream out(path);
    out << R"({"schema_version": 1, "name": "one-switch", "vertices": [)"
        << R"({"id": "s", "kind": "nvswitch", "domain": 0})";
    for (int g = 0; g < 2048; ++g)
      out << R"(, {"id": "g)" << g << R"(", "kind": "gpu", "node": )" << g / 8
          << R"(, "domain": 0})";
    out << R"(], "links": [)";
    for (int g = 0; g < 2048; ++g)
      out << (g ? ", " : "") << R"({"from": "g)" << g
          << R"(", "to": "s", "kind": "nvlink", "bandwidth_gb_per_s": 450, "latency_us": 1, )"
          << R"("duplex": true})";
    out << "]}";
  }
  std::string text = scenario(2048, 17, 2048, 256, "");
  const std::string cluster = R"({"system": "hgx-h200", "nodes": 256})";
  text.replace(text.find(cluster), cluster.size(),
               R"({"system": "hgx-h200", "nodes": 256, "topology": ")" + path + R"("})");
  EXPECT_EQ(parse_error(text),
            "s.json: /cluster/topology: expected a topology file (only flows read one) within the "
            "flow model's bounds: flows over 4194304 GPU pairs x 17 MoE layers on 2048 GPUs "
            "exceed them (at most 4194304 pairs, 67108864 pair-layers, 4194304 GPU-layers; "
            "docs/limits.md)");
  // 16 layers are 2^26 pair-layers, inside: the file is played.
  std::string fits = scenario(2048, 16, 2048, 256, "");
  fits.replace(fits.find(cluster), cluster.size(),
               R"({"system": "hgx-h200", "nodes": 256, "topology": ")" + path + R"("})");
  EXPECT_EQ(parse_error(fits), "(no error)");
}

}  // namespace
}  // namespace moesim::sim
