#include "sim/network/dispatch_traffic.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

// `gpus` GPUs holding one expert each (expert e on GPU e), plus extra replicas as given.
Placement one_expert_per_gpu(int gpus, const std::vector<std::pair<int, int>>& extra = {}) {
  Placement p;
  p.gpus = gpus;
  p.slots.resize(gpus);
  p.replicas.resize(gpus);
  for (int g = 0; g < gpus; ++g) {
    p.slots[g].push_back(g);
    p.replicas[g].push_back(g);
  }
  for (auto [expert, gpu] : extra) {
    p.slots[gpu].push_back(expert);
    p.replicas[expert].push_back(gpu);
  }
  return p;
}

double total_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

TEST(DispatchTraffic, DeduplicationCountsTokensWithAtLeastOneCopy) {
  // Top-2, half the copies bound for one GPU: 2 x 0.5 = 1 copy per token, but a token misses the
  // GPU with probability 0.5^2, so 1 - 0.25 = 0.75 tokens cross. Top-1 is exact either way.
  EXPECT_DOUBLE_EQ(tokens_for_share(0.5, 2, false), 1.0);
  EXPECT_DOUBLE_EQ(tokens_for_share(0.5, 2, true), 0.75);
  EXPECT_DOUBLE_EQ(tokens_for_share(0.3, 1, true), 0.3);
  EXPECT_DOUBLE_EQ(tokens_for_share(1.0, 8, true), 1.0);  // every token, once
}

TEST(DispatchTraffic, RoundRobinSplitsEachExpertEvenlyOverItsReplicas) {
  // 4 GPUs, expert 0 (load 40) also on GPU 3; experts 1-3 load 20. Expert 0's copies split 20/20:
  // GPU 0 computes 20, GPU 3 computes 20 + 20 = 40. Shares are copies / 100.
  const auto t = plan_dispatch(one_expert_per_gpu(4, {{0, 3}}), {40, 20, 20, 20},
                               ReplicaChoice::RoundRobin, 2, 25, 1);
  EXPECT_EQ(t.domains, 2);
  EXPECT_DOUBLE_EQ(t.received[0], 20);
  EXPECT_DOUBLE_EQ(t.received[3], 40);
  ASSERT_EQ(t.local_tokens[3].size(), 2u);
  EXPECT_DOUBLE_EQ(t.local_tokens[3][1], 20);  // its replica of expert 0
  EXPECT_DOUBLE_EQ(t.share[0][3], 0.4);
  EXPECT_DOUBLE_EQ(t.share[1][3], 0.4);  // both domains send alike
}

TEST(DispatchTraffic, SameNodeFirstKeepsCopiesInTheSendersDomain) {
  // Domains {0,1} and {2,3}; expert 0 (load 40) on GPUs 0 and 3. Domain 0's senders (half the
  // copies) send all their expert-0 copies to GPU 0, domain 1's to GPU 3: each computes 20, but
  // from domain 1 GPU 0's share is 0 and GPU 3's is 0.2 + 0.4 = 0.6 of that domain's copies.
  const auto t = plan_dispatch(one_expert_per_gpu(4, {{0, 3}}), {40, 20, 20, 20},
                               ReplicaChoice::SameNodeFirst, 2, 25, 1);
  EXPECT_DOUBLE_EQ(t.share[0][0], 0.4);
  EXPECT_DOUBLE_EQ(t.share[1][0], 0.0);
  EXPECT_DOUBLE_EQ(t.share[1][3], 0.6);
  EXPECT_DOUBLE_EQ(t.received[0], 20);
  EXPECT_DOUBLE_EQ(t.received[3], 40);
  // No expert-0 copy crosses domains: GPU 0 receives nothing from domain 1's two GPUs.
  const auto hops = hop_tokens(t, DispatchKind::Direct, false);
  EXPECT_DOUBLE_EQ(hops.receive_inter[0], 0.0);
}

TEST(DispatchTraffic, LeastLoadedLevelsTheReplicasGpus) {
  // 2 GPUs: expert 0 (load 6) on both, expert 1 (load 2) only on GPU 1. Expert 1 has no choice:
  // GPU 1 = 2. Expert 0 fills GPU 0 up to 2, then splits the remaining 4 evenly: 4 and 4.
  // Round-robin would give 3 and 3 + 2 = 5.
  const Placement p = one_expert_per_gpu(2, {{0, 1}});
  const std::vector<double> load = {6, 2};
  const auto least = plan_dispatch(p, load, ReplicaChoice::LeastLoaded, 2, 4, 1);
  EXPECT_DOUBLE_EQ(least.received[0], 4);
  EXPECT_DOUBLE_EQ(least.received[1], 4);
  const auto even = plan_dispatch(p, load, ReplicaChoice::RoundRobin, 2, 4, 1);
  EXPECT_DOUBLE_EQ(even.received[0], 3);
  EXPECT_DOUBLE_EQ(even.received[1], 5);
}

TEST(DispatchTraffic, DirectAndHierarchicalHopsOnUniformRouting) {
  // 4 GPUs in 2 domains, uniform top-1, 100 tokens per GPU: 25 to each GPU.
  // Direct: 25 to the domain peer, 50 across; receives the same.
  // Hierarchical: the fabric leg still carries 50 (25 per remote GPU, to the same-rail relay);
  // the relay forwards the 25 meant for its peer, so the scale-up port carries 25 + 25 = 50.
  const auto t =
      plan_dispatch(one_expert_per_gpu(4), {1, 1, 1, 1}, ReplicaChoice::RoundRobin, 2, 100, 1);
  const auto direct = hop_tokens(t, DispatchKind::Direct, false);
  EXPECT_DOUBLE_EQ(direct.send_intra[0], 25);
  EXPECT_DOUBLE_EQ(direct.send_inter[0], 50);
  EXPECT_DOUBLE_EQ(direct.receive_intra[1], 25);
  EXPECT_DOUBLE_EQ(direct.receive_inter[1], 50);
  const auto hier = hop_tokens(t, DispatchKind::Hierarchical, false);
  EXPECT_DOUBLE_EQ(hier.send_inter[0], 50);
  EXPECT_DOUBLE_EQ(hier.receive_inter[2], 50);
  EXPECT_DOUBLE_EQ(hier.send_intra[2], 50);
  EXPECT_DOUBLE_EQ(hier.receive_intra[3], 50);
}

TEST(DispatchTraffic, HierarchicalDedupSendsATokenOncePerDomain) {
  // Top-2 over 4 GPUs (1/4 of copies each): a sender puts half its copies in the other domain.
  // Copies across: 100 x 2 x 0.5 = 100. Deduplicated per domain: a token misses the domain with
  // probability 0.5^2, so 100 x 0.75 = 75 cross. Per GPU (direct dedup): 1 - 0.75^2 = 0.4375 per
  // GPU, 2 x 43.75 = 87.5 tokens cross.
  const auto t =
      plan_dispatch(one_expert_per_gpu(4), {1, 1, 1, 1}, ReplicaChoice::RoundRobin, 2, 100, 2);
  EXPECT_DOUBLE_EQ(hop_tokens(t, DispatchKind::Hierarchical, false).send_inter[0], 100);
  EXPECT_DOUBLE_EQ(hop_tokens(t, DispatchKind::Hierarchical, true).send_inter[0], 75);
  EXPECT_DOUBLE_EQ(hop_tokens(t, DispatchKind::Direct, true).send_inter[0], 87.5);
  EXPECT_DOUBLE_EQ(domain_byte_matrix(t, true, 1.0)[0][1], 75);
  EXPECT_DOUBLE_EQ(gpu_byte_matrix(t, true, 1.0)[0][2], 43.75);
}

// 8 GPUs in 4 domains of 2; 16 experts, 2 per GPU in order (GPU g holds 2g and 2g + 1).
Placement two_experts_per_gpu() {
  Placement p;
  p.gpus = 8;
  p.slots.resize(8);
  p.replicas.resize(16);
  for (int e = 0; e < 16; ++e) {
    p.slots[e / 2].push_back(e);
    p.replicas[e].push_back(e / 2);
  }
  return p;
}

TEST(DispatchTraffic, GroupLimitedTokensReachAtMostTheirChosenGroupsDomains) {
  // 16 experts in 4 groups of 4 (group q = experts 4q..4q+3 = domain q's GPUs), each token picks
  // 2 groups and its 4 experts inside them; uniform load, 100 tokens per GPU.
  const auto t = plan_dispatch(two_experts_per_gpu(), std::vector<double>(16, 1.0),
                               ReplicaChoice::RoundRobin, 2, 100, 4, GroupLimit{4, 2});
  // Domain 1 holds group 1 whole: each group carries 1/4 of the copies, so a token picks group 1
  // with probability min(1, 2 x 1/4) = 0.5 and then puts 4 / 2 = 2 copies there: it reaches
  // domain 1 with probability 0.5, 50 of 100 tokens. Over the 4 domains a token reaches
  // 4 x 0.5 = 2, its 2 groups. Without the limit: 1 - (3/4)^4 = 0.68359375 per domain,
  // 2.73 domains.
  EXPECT_DOUBLE_EQ(domain_byte_matrix(t, true, 1.0)[0][1], 50);
  EXPECT_DOUBLE_EQ(hop_tokens(t, DispatchKind::Hierarchical, true).send_inter[0], 3 * 50.0);
  const auto unlimited = plan_dispatch(two_experts_per_gpu(), std::vector<double>(16, 1.0),
                                       ReplicaChoice::RoundRobin, 2, 100, 4);
  EXPECT_DOUBLE_EQ(domain_byte_matrix(unlimited, true, 1.0)[0][1], 68.359375);
  // One GPU of domain 1 holds half of group 1: once the group is picked, its 2 copies miss that
  // GPU with probability 0.5^2, so 0.5 x 0.75 = 0.375 of the tokens, 37.5.
  EXPECT_DOUBLE_EQ(gpu_byte_matrix(t, true, 1.0)[0][2], 37.5);
  // The limit changes which tokens cross, not how many copies: without dedup, 4 x 1/8 = 0.5
  // copies per token per GPU either way.
  EXPECT_DOUBLE_EQ(gpu_byte_matrix(t, false, 1.0)[0][2], 50);
  // DeepSeek-V3 on 8 nodes (a node holds one of 8 groups, 4 groups picked, 8 experts): a token
  // reaches a node with probability min(1, 4 / 8) = 0.5, 8 x 0.5 = 4 nodes; 1 - (7/8)^8 = 0.656
  // per node, 5.25 nodes, without the limit.
  std::vector<double> copies(8, 1.0 / 8), to_node_0(8, 0.0);
  to_node_0[0] = 1.0 / 8;
  EXPECT_DOUBLE_EQ(grouped_tokens_for_share(copies, to_node_0, 8, 4), 0.5);
  // One group picked alone is the ungrouped formula: 1 - (1 - 0.3)^2 = 0.51.
  EXPECT_DOUBLE_EQ(grouped_tokens_for_share({1.0}, {0.3}, 2, 1), tokens_for_share(0.3, 2, true));
}

TEST(DispatchTraffic, EveryHopSendsWhatItReceives) {
  // Conservation on a skewed, replicated layout: 8 GPUs in 2 domains, every mode.
  const Placement p = one_expert_per_gpu(8, {{0, 5}, {1, 6}, {0, 2}});
  const std::vector<double> load = {90, 50, 10, 10, 5, 5, 20, 30};
  for (auto choice :
       {ReplicaChoice::RoundRobin, ReplicaChoice::SameNodeFirst, ReplicaChoice::LeastLoaded})
    for (auto dispatch : {DispatchKind::Direct, DispatchKind::Hierarchical})
      for (bool dedup : {false, true}) {
        const auto t = plan_dispatch(p, load, choice, 4, 55, 4);
        EXPECT_NEAR(total_of(t.received), 220, 1e-9);  // every copy computed somewhere
        const auto h = hop_tokens(t, dispatch, dedup);
        EXPECT_NEAR(total_of(h.send_intra), total_of(h.receive_intra), 1e-9);
        EXPECT_NEAR(total_of(h.send_inter), total_of(h.receive_inter), 1e-9);
      }
}

TEST(DispatchTraffic, DedupAndHierarchicalChangeTheSimulatedStep) {
  // DeepSeek-V3 prefill on 256 H200s (Zipf routing, contiguous placement): deduplication cuts
  // the bytes on the fabric; hierarchical dispatch spreads a hot GPU's inbound traffic over its
  // node's eight NICs, so the step gets faster (analytic model).
  auto s = load_scenario("dsv3-prefill-h200x256");
  const auto base = simulate(s);
  s.network.dedup = true;
  const auto dedup = simulate(s);
  s.network.dispatch = DispatchKind::Hierarchical;
  const auto both = simulate(s);
  EXPECT_LT(dedup.links.back().bytes_per_step, base.links.back().bytes_per_step);
  EXPECT_LT(both.links.back().bytes_per_step, dedup.links.back().bytes_per_step);
  EXPECT_LT(both.step_time_s, base.step_time_s);
  EXPECT_EQ(both.dispatch, "hierarchical");
  ASSERT_FALSE(both.busiest_links.empty());
  EXPECT_GE(both.busiest_links.front().utilisation, both.busiest_links.back().utilisation);
}

TEST(DispatchTraffic, FlowModelPlaysHierarchicalDispatch) {
  // DeepSeek-V3 on two H200 nodes (EP 16) under the flow model: hierarchical dispatch with dedup
  // moves fewer fabric bytes than direct, and the report names real graph links.
  auto s = load_scenario("dsv3-prefill-h200x256");
  s.cluster.nodes = 2;
  s.parallelism.expert_parallel = 16;
  s.parallelism.attention_data_parallel = 16;
  s.network.model = NetworkModelKind::Flow;
  const auto direct = simulate(s);
  s.network.dispatch = DispatchKind::Hierarchical;
  s.network.dedup = true;
  const auto hier = simulate(s);
  EXPECT_EQ(hier.network_model, "flow");
  EXPECT_LT(hier.links.back().bytes_per_step, direct.links.back().bytes_per_step);
  ASSERT_FALSE(hier.busiest_links.empty());
  EXPECT_NE(hier.busiest_links.front().name.find(" -> "), std::string::npos);
}

TEST(DispatchTraffic, FlowModelPlaysEveryEpGroupAtOnce) {
  // DeepSeek-V3 (4 layers) with EP 16 on 2 and on 4 H200 nodes, 4:1 oversubscribed fabric. With 4
  // nodes both EP groups play at once: the busiest leaf uplink, shared by the two groups, carries
  // exactly twice the bytes; the fabric grew with the nodes, so its utilisation stays the same.
  auto s = load_scenario("dsv3-prefill-h200x256");
  s.model.layers = s.model.moe_layers = 4;
  s.cluster.oversubscription = 4;
  s.parallelism.expert_parallel = 16;
  s.network.model = NetworkModelKind::Flow;
  s.cluster.nodes = 2;
  s.parallelism.attention_data_parallel = 16;
  const auto one = simulate(s);
  s.cluster.nodes = 4;
  s.parallelism.attention_data_parallel = 32;
  const auto two = simulate(s);
  EXPECT_EQ(one.ep_groups_played, 1);
  EXPECT_EQ(two.ep_groups_played, 2);
  ASSERT_FALSE(one.busiest_links.empty());
  ASSERT_FALSE(two.busiest_links.empty());
  EXPECT_EQ(one.busiest_links.front().name, two.busiest_links.front().name);
  EXPECT_NEAR(two.busiest_links.front().bytes_per_step,
              2 * one.busiest_links.front().bytes_per_step,
              1e-6 * one.busiest_links.front().bytes_per_step);
  // Equal but for latency: a flow class moves at its members' mean latency, and on 2 nodes the
  // single 25 GB/s uplink splits cross-rail pairs from same-rail ones (a different rate alone)
  // where on 4 nodes (50 GB/s) they share a class. Two switch hops of latency per collective
  // bound the difference: under 1 us per collective, 16 collectives here.
  EXPECT_NEAR(two.step_time_s, one.step_time_s, 16e-6);
}

}  // namespace
}  // namespace moesim::sim
