#include "sim/spec/scenario.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/config_error.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

std::string read_bad(const std::string& name) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) + "/tests/data/scenarios/bad/" + name,
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string scenario_error_of(const std::string& name) {
  try {
    const auto scenario = parse_scenario(read_bad(name), name);
    ensure_fits(scenario);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

struct BadCase {
  const char* file;
  const char* message;  // the whole message, every problem on its own line
};

class MalformedScenario : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedScenario, GetsItsExactMessage) {
  EXPECT_EQ(scenario_error_of(GetParam().file), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, MalformedScenario,
    ::testing::Values(
        BadCase{"nodes-negative.json",
                "nodes-negative.json: /cluster/nodes: expected an integer in [1, 131072], got -2"},
        BadCase{"unknown-field.json",
                "unknown-field.json: /worklaod: unknown field; did you mean \"workload\"?"},
        BadCase{
            "unknown-model.json",
            "unknown-model.json: /model: unknown model \"mixtrl-8x7b\" (did you mean "
            "\"mixtral-8x7b\"?); "
            "expected one of: deepseek-v3, kimi-k2, mixtral-8x7b, mixtral-8x22b, qwen3-30b-a3b, "
            "qwen3-235b-a22b, gpt-oss-120b, llama-4-maverick, olmoe-1b-7b, dbrx, switch-c-2048, "
            "gshard-600b"},
        BadCase{"duplicate-key.json",
                "duplicate-key.json: /model: duplicate key (each field may appear once)"},
        // The second {...} starts at byte 68, after the 68-byte first object and a space.
        BadCase{"trailing-data.json",
                "trailing-data.json: byte 68: invalid JSON: line 1, column 69: syntax error while "
                "parsing "
                "value - unexpected '{'; expected end of input"},
        BadCase{
            "invalid-utf8.json",
            "invalid-utf8.json: byte 81: invalid JSON: line 1, column 82: syntax error while "
            "parsing value - "
            "invalid string: ill-formed UTF-8 byte; last read: '\"caf\\xe9\"'"},  // escaped for the
                                                                                  // terminal
        BadCase{"nan.json",
                "nan.json: byte 98: invalid JSON: line 1, column 99: syntax error while parsing "
                "value - "
                "invalid literal; last read: '\"capacity_factor\": N'"},
        BadCase{"huge-number.json",
                "huge-number.json: byte 102: invalid JSON: number overflow parsing '1e999'"},
        BadCase{"wrong-schema-version.json",
                "wrong-schema-version.json: /schema_version: expected 1, got 2"},
        BadCase{"missing-model.json",
                "missing-model.json: /model: missing required field (expected a value)"},
        BadCase{"bad-ep.json",
                "bad-ep.json: /parallelism/expert_parallel: expected a divisor of the cluster's 8 "
                "GPUs, got 3\n"
                "bad-ep.json: /parallelism/expert_parallel: expected a divisor of the 8 expert "
                "slots (8 experts "
                "+ 0 redundant), got 3"},
        BadCase{"hierarchical-partial-domain.json",
                "hierarchical-partial-domain.json: /network/dispatch: hierarchical dispatch needs "
                "whole scale-up "
                "domains: EP 12 is not a multiple of 8"},
        // The field is named and the three kernels listed.
        BadCase{"all-to-all-unknown.json",
                "all-to-all-unknown.json: /network/all_to_all: expected one of \"nccl\", "
                "\"deepep-normal\", \"deepep-low-latency\", got \"deepep\""},
        // Low-latency kernels send every copy (no dedup) and are priced analytically (no flow).
        BadCase{"all-to-all-contradicted.json",
                "all-to-all-contradicted.json: /network/dedup: expected false with all_to_all "
                "\"deepep-low-latency\" (or leave it out), got true\n"
                "all-to-all-contradicted.json: /network/model: expected \"analytic\" or \"auto\" "
                "with all_to_all \"deepep-low-latency\" (its kernels are priced analytically), got "
                "\"flow\""},
        BadCase{
            "bad-overlap.json",
            "bad-overlap.json: /parallelism/overlap: expected one of \"none\", \"comm-compute\", "
            "\"two-micro-batch\", \"single-batch\", got \"two-microbatch\" (did you mean "
            "\"two-micro-batch\"?)"},
        // Session 12: 2026-02-30 passed, and a link of 1e-320 B/s saturated the event clock.
        BadCase{"impossible-day-and-link.json",
                "impossible-day-and-link.json: /cluster/links/nvlink/bandwidth: expected a number "
                "in [1000000, 1000000000000000], got 1e-320\n"
                "impossible-day-and-link.json: /price/date: expected a date YYYY-MM-DD from 1970 "
                "on, got \"2026-02-30\""},
        // Session 12: top-8 from one group of 256 / 64 = 4 experts ran.
        BadCase{"group-limit-too-narrow.json",
                "group-limit-too-narrow.json: /model/top_k: expected at most topk_groups x "
                "experts per group = 1 x 4, got 8"},
        BadCase{"bad-date.json",
                "bad-date.json: /price/date: expected a date YYYY-MM-DD from 1970 on, got "
                "\"24/11/2026\""},
        BadCase{"many-problems.json",
                "many-problems.json: /model/top_k: expected an integer in [1, 256], got 0\n"
                "many-problems.json: /cluster/nodes: expected an integer in [1, 131072], got 0\n"
                "many-problems.json: /workload/kind: expected one of \"training\", \"prefill\", "
                "\"decode\", got \"serve\"\n"
                "many-problems.json: /workload/tokens_per_gpu: expected an integer in [1, "
                "16777216], got 1.5"},
        BadCase{"not-an-object.json", "not-an-object.json: /: expected an object, got an array"},
        BadCase{"empty.json",
                "empty.json: byte 0: invalid JSON: line 1, column 1: syntax error while parsing "
                "value - "
                "unexpected end of input; expected '[', '{', or a literal"},
        BadCase{"inline-model-missing-fields.json",
                "inline-model-missing-fields.json: /model/moe_layers: missing required field "
                "(expected an integer in [1, 1024])\n"
                "inline-model-missing-fields.json: /model/hidden: missing required field (expected "
                "an integer in [1, 65536])\n"
                "inline-model-missing-fields.json: /model/experts: missing required field "
                "(expected an integer in [1, 8192])\n"
                "inline-model-missing-fields.json: /model/top_k: missing required field (expected "
                "an integer in [1, 256])\n"
                "inline-model-missing-fields.json: /model/expert_ffn: missing required field "
                "(expected an integer in [1, 262144])"},
        BadCase{"no-fabric.json",
                "no-fabric.json: /cluster/fabric: expected a scale-out fabric for 4 nodes of "
                "hgx-h100 (one "
                "scale-up domain holds 8 GPUs), got \"none\""},
        BadCase{"deep-nesting.json",
                "deep-nesting.json: /0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0...: nesting "
                "deeper than 128 levels"},
        // DeepSeek-V3 on 8 H100s: 256/8 = 32 experts x 58 layers x 44.0M x 2 bytes = 163 GiB of
        // experts alone, over the 74.5 GiB (80e9 bytes) an H100 holds.
        BadCase{"does-not-fit.json",
                "does-not-fit.json: /cluster/device: the scenario does not fit: it needs 184.9 GiB "
                "per GPU "
                "(weights 184.1, gradients 0.0, optimizer 0.0, KV cache 0.3, activations 0.5) but "
                "a h100-sxm has "
                "74.5 GiB; "
                "use more GPUs, a larger expert_parallel or fewer tokens_per_gpu"}),
    [](const auto& test_info) {
      std::string name;
      for (char c : std::string(test_info.param.file))
        if (std::isalnum(static_cast<unsigned char>(c))) name += c;
      return name;
    });

std::string scenario_parse_error(const std::string& text) {
  try {
    parse_scenario(text, "s.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

// A custom model on one HGX H100 node, with `model_fields` and `placement` spliced in.
std::string custom_scenario(const std::string& model_fields, const std::string& placement = "{}") {
  return R"({"schema_version": 1, "model": {"layers": 2, "moe_layers": 2, "hidden": 64, "expert_ffn": 64, )" +
         model_fields + R"(}, "cluster": "h100x8", "placement": )" + placement + "}";
}

TEST(ScenarioLimits, IntegersPastTheirLimitAreRefusedNotWrapped) {
  // Issue 16: 2^32 + 8 experts became 8 and top_k 2^32 + 2 became 2 when narrowed to int.
  EXPECT_EQ(scenario_parse_error(custom_scenario(R"("experts": 4294967304, "top_k": 4294967298)")),
            "s.json: /model/experts: expected an integer in [1, 8192], got 4294967304\n"
            "s.json: /model/top_k: expected an integer in [1, 256], got 4294967298");
  // 10^18 layers went negative.
  EXPECT_EQ(
      scenario_parse_error(
          R"({"schema_version": 1, "model": {"layers": 1000000000000000000, "moe_layers": 1, )"
          R"("hidden": 64, "expert_ffn": 64, "experts": 8, "top_k": 2}, "cluster": "h100x8"})"),
      "s.json: /model/layers: expected an integer in [1, 1024], got 1000000000000000000");
}

TEST(ScenarioLimits, RedundantExpertsAreBoundedSoRunsFinishInSeconds) {
  // Issue 16: 1,048,576 redundant experts were inside the old range and hung `run`.
  EXPECT_EQ(scenario_parse_error(custom_scenario(R"("experts": 8, "top_k": 2)",
                                                 R"({"redundant_experts": 1048576})")),
            "s.json: /placement/redundant_experts: expected an integer in [0, 8192], got 1048576");
  // 8 + 8190 = 8198 slots > 8192.
  EXPECT_EQ(
      scenario_parse_error(
          custom_scenario(R"("experts": 8, "top_k": 2)", R"({"redundant_experts": 8190})")),
      "s.json: /placement/redundant_experts: expected experts + redundant_experts <= 8192 expert "
      "slots, "
      "got 8 + 8190 = 8198");
  // 64 MoE layers x 8192 slots = 524288 > 2^18 = 262144 cells.
  EXPECT_EQ(scenario_parse_error(
                R"({"schema_version": 1, "model": {"layers": 64, "moe_layers": 64, "hidden": 64, )"
                R"("expert_ffn": 64, "experts": 8192, "top_k": 2}, "cluster": "h100x8"})"),
            "s.json: /model/moe_layers: expected moe_layers x expert slots <= 262144, got 64 x "
            "8192 = 524288");
}

TEST(ScenarioLimits, ClusterGpusAreBounded) {
  // 16385 nodes of 8 GPUs = 131080 GPUs > 2^17 = 131072.
  EXPECT_EQ(
      scenario_parse_error(
          R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": {"preset": "h100x8", "nodes": 16385}})"),
      "s.json: /cluster/nodes: expected at most 131072 GPUs (16384 nodes of 8 GPUs), got 16385 "
      "nodes = 131080 GPUs");
}

TEST(Scenario, EveryBuiltinParsesAndFits) {
  for (const auto& builtin : builtin_scenarios()) {
    SCOPED_TRACE(std::string(builtin.name));
    const auto scenario = parse_scenario(builtin.json, std::string(builtin.name));
    EXPECT_NO_THROW(ensure_fits(scenario));
  }
}

TEST(Scenario, PresetOverridesApply) {
  const auto s =
      parse_scenario(R"({"schema_version": 1, "model": {"preset": "mixtral-8x7b", "top_k": 1},
      "cluster": {"preset": "h100x64", "oversubscription": 2}})",
                     "o.json");
  EXPECT_EQ(s.model.top_k, 1);
  EXPECT_EQ(s.model.experts, 8);
  EXPECT_EQ(s.cluster.nodes, 8);
  EXPECT_DOUBLE_EQ(s.cluster.oversubscription, 2.0);
  // 64 GPUs, 8 expert slots: the default EP is gcd(64, 8) = 8.
  EXPECT_EQ(s.parallelism.expert_parallel, 8);
}

TEST(Scenario, LinkOverridesReplaceThePresetsFiguresPerKind) {
  // An H800-class node: NVLink at 400 GB/s per direction, 200 Gb/s (25 GB/s) NICs at 85%.
  const auto s = parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
      "cluster": {"preset": "h100x64", "links": {"nvlink": {"bandwidth": 400e9},
                                                 "ib": {"bandwidth": 25e9, "efficiency": 0.85}}}})",
                                "h800.json");
  EXPECT_DOUBLE_EQ(s.cluster.system.scale_up_bandwidth, 400e9);
  EXPECT_DOUBLE_EQ(s.cluster.scale_up_link.efficiency, 0);  // not given: the profile's
  EXPECT_DOUBLE_EQ(s.cluster.nic.bandwidth, 25e9);
  EXPECT_DOUBLE_EQ(s.cluster.nic_link.efficiency, 0.85);
}

TEST(Scenario, LinkOverridesOfKindsTheClusterLacksAreErrors) {
  try {
    parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
        "cluster": {"preset": "h100x64", "links": {"xgmi": {"bandwidth": 1e9},
                                                   "nvlink": {"efficiency": 1.5}}}})",
                   "bad.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/cluster/links/xgmi: expected a link kind of this cluster: \"nvlink\" "
                           "(its scale-up links) or \"ib\" (its NICs)"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("/cluster/links/nvlink/efficiency"), std::string::npos) << message;
  }
}

TEST(Scenario, ATopologyFileMustHoldTheClustersGpus) {
  // A file of 2 GPUs fits a 2-GPU H200 node, not a 64-GPU cluster; a missing file is an error.
  const auto path =
      (std::filesystem::temp_directory_path() / "moesim_scenario_topology.json").string();
  std::ofstream(path) << R"({"schema_version": 1, "name": "two",
      "vertices": [{"id": "g0", "kind": "gpu", "node": 0, "domain": 0},
                   {"id": "g1", "kind": "gpu", "node": 0, "domain": 0}],
      "links": [{"from": "g0", "to": "g1", "kind": "nvlink", "bandwidth_gb_per_s": 450,
                 "latency_us": 1, "duplex": true}]})";
  const auto scenario = [](const std::string& cluster) {
    return R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": )" + cluster + "}";
  };
  const auto two = parse_scenario(
      scenario(
          R"({"system": "hgx-h200", "nodes": 1, "gpus_per_node": 2, "fabric": "none", "topology": ")" +
          path + R"("})"),
      "pair.json");
  EXPECT_EQ(two.cluster.topology_file, path);
  try {
    parse_scenario(scenario(R"({"preset": "h100x64", "topology": ")" + path + R"("})"), "big.json");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(
        std::string(error.what())
            .find("/cluster/topology: expected a topology of the cluster's 64 GPUs, got 2 in " +
                  path),
        std::string::npos)
        << error.what();
  }
  EXPECT_THROW(parse_scenario(scenario(R"({"preset": "h100x8", "topology": "/no/such.json"})"),
                              "missing.json"),
               ConfigError);
}

TEST(Scenario, GshardDefaultsToItsCapacityFactorUnlessNullGiven) {
  const auto with_default = parse_scenario(
      R"({"schema_version": 1, "model": "gshard-600b", "cluster": "h200x256"})", "g.json");
  EXPECT_DOUBLE_EQ(with_default.policy.capacity_factor, 1.0);
  const auto dropless = parse_scenario(R"({"schema_version": 1, "model": "gshard-600b",
      "cluster": "h200x256", "policy": {"capacity_factor": null}})",
                                       "g.json");
  EXPECT_DOUBLE_EQ(dropless.policy.capacity_factor, 0.0);
}

std::string policy_error(const std::string& policy) {
  try {
    parse_scenario(
        R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8", "policy": )" +
            policy + "}",
        "p.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(Scenario, PolicyReadsMinCapacityRoutingAndTutelDynamicCapacity) {
  const auto s =
      parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8",
      "policy": {"capacity_factor": 1.25, "min_capacity": 4, "drop": "position"}})",
                     "p.json");
  EXPECT_EQ(s.policy.min_capacity, 4);
  EXPECT_EQ(s.policy.drop, DropPolicy::Position);
  EXPECT_EQ(s.policy.routing, RoutingMode::TokenChoice);
  // Tutel writes its dynamic capacity as factor 0 with padding: both are accepted.
  const auto tutel =
      parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8",
      "policy": {"capacity_factor": 0, "pad_to_capacity": true}})",
                     "p.json");
  EXPECT_DOUBLE_EQ(tutel.policy.capacity_factor, 0);
  EXPECT_TRUE(tutel.policy.pad_to_capacity);
  const auto ec =
      parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8",
      "policy": {"routing": "expert-choice"}})",
                     "p.json");
  EXPECT_EQ(ec.policy.routing, RoutingMode::ExpertChoice);
}

TEST(Scenario, BatchLoadSigmaDefaultsToTheModelsAndIsBounded) {
  const auto parse = [](const std::string& model, const std::string& routing) {
    return parse_scenario(R"({"schema_version": 1, "model": ")" + model +
                              R"(", "cluster": "h200x8", "workload": {"routing": )" + routing +
                              "}}",
                          "r.json");
  };
  // DeepSeek-V3 carries its measured spread, Mixtral none; both add sampling noise.
  const auto dsv3 = parse("deepseek-v3", "{}");
  EXPECT_DOUBLE_EQ(dsv3.workload.routing.batch_load_sigma, 0.23);
  EXPECT_TRUE(dsv3.workload.routing.sampling_noise);
  EXPECT_DOUBLE_EQ(parse("mixtral-8x7b", "{}").workload.routing.batch_load_sigma, 0);
  const auto given = parse("deepseek-v3", R"({"batch_load_sigma": 0, "sampling_noise": false})");
  EXPECT_DOUBLE_EQ(given.workload.routing.batch_load_sigma, 0);
  EXPECT_FALSE(given.workload.routing.sampling_noise);
  try {
    parse("mixtral-8x7b", R"({"batch_load_sigma": -0.1})");
    ADD_FAILURE() << "a negative sigma was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("/workload/routing/batch_load_sigma"),
              std::string::npos)
        << error.what();
  }
}

TEST(Scenario, PolicyContradictionsAreErrorsWithTheirPath) {
  EXPECT_EQ(policy_error(R"({"min_capacity": 4})"),
            "p.json: /policy/min_capacity: expected a capacity_factor for min_capacity to floor "
            "(dropless has no capacity)");
  EXPECT_EQ(policy_error(R"({"routing": "expert-choice", "drop": "probs"})"),
            "p.json: /policy/drop: expected only with routing \"token-choice\" (under "
            "\"expert-choice\" every expert "
            "takes exactly its capacity: nothing overflows)");
  EXPECT_NE(
      policy_error(R"({"routing": "expert"})").find("p.json: /policy/routing: expected one of"),
      std::string::npos)
      << policy_error(R"({"routing": "expert"})");
  EXPECT_NE(policy_error(R"({"min_capacity": -1, "capacity_factor": 1})")
                .find("/policy/min_capacity: expected an integer"),
            std::string::npos);
}

}  // namespace
}  // namespace moesim::sim
