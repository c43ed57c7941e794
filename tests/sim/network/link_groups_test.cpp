#include "sim/network/link_groups.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sim/network/max_min.hpp"

namespace moesim::sim {
namespace {

std::vector<const FlowPath*> pointers(const std::vector<FlowPath>& paths) {
  std::vector<const FlowPath*> out;
  for (const auto& path : paths) out.push_back(&path);
  return out;
}

// Rates of `paths` solved over the link groups instead of the links.
std::vector<BytesPerSecond> grouped_rates(const std::vector<BytesPerSecond>& capacity,
                                          const std::vector<FlowPath>& paths) {
  const LinkGroups groups = group_links(capacity.size(), pointers(paths));
  std::vector<FlowPath> grouped;
  for (const auto& path : paths) grouped.push_back(grouped_path(path, groups));
  return solve_max_min(group_capacity(groups, capacity), grouped);
}

// Flow A: link 0, then an even ECMP fan over links 1-4. Flow B: the same fan, then link 5.
std::vector<FlowPath> fan_paths() {
  return {FlowPath({0, 1, 2, 3, 4}, {1, 0.25, 0.25, 0.25, 0.25}),
          FlowPath({1, 2, 3, 4, 5}, {0.25, 0.25, 0.25, 0.25, 1})};
}

TEST(LinkGroups, AnEcmpFanIsOneConstraintWithTheSameRates) {
  const std::vector<BytesPerSecond> capacity{100, 10, 10, 10, 10, 100};
  const LinkGroups groups = group_links(capacity.size(), pointers(fan_paths()));
  // Links 1-4 carry a quarter of A and of B each: one group; 0 and 5 carry one flow each.
  EXPECT_EQ(groups.group_count, 3u);
  for (int link = 2; link <= 4; ++link) EXPECT_EQ(groups.group_of[link], groups.group_of[1]);
  EXPECT_NE(groups.group_of[0], groups.group_of[5]);
  // Each fan link: 0.25 (rA + rB) <= 10, so rA + rB <= 40, split evenly: 20 each, on the links
  // and on the group alike.
  const auto exact = solve_max_min(capacity, fan_paths());
  const auto grouped = grouped_rates(capacity, fan_paths());
  EXPECT_DOUBLE_EQ(exact[0], 20);
  EXPECT_DOUBLE_EQ(exact[1], 20);
  EXPECT_DOUBLE_EQ(grouped[0], 20);
  EXPECT_DOUBLE_EQ(grouped[1], 20);
}

TEST(LinkGroups, ASlowMemberSetsTheGroupsCapacity) {
  // Fan link 3 at half speed: 0.25 (rA + rB) <= 5, so 10 each; the group takes its member's 5.
  const std::vector<BytesPerSecond> capacity{100, 10, 10, 5, 10, 100};
  const LinkGroups groups = group_links(capacity.size(), pointers(fan_paths()));
  EXPECT_DOUBLE_EQ(group_capacity(groups, capacity)[static_cast<std::size_t>(groups.group_of[1])],
                   5);
  const auto grouped = grouped_rates(capacity, fan_paths());
  EXPECT_DOUBLE_EQ(grouped[0], 10);
  EXPECT_DOUBLE_EQ(grouped[1], 10);
  EXPECT_EQ(grouped, solve_max_min(capacity, fan_paths()));
}

TEST(LinkGroups, AChainKeepsItsTightestLinkAndBooksBytesOnEveryMember) {
  // A alone crosses PCIe (64) then its NIC (50); B crosses link 2 (30). Links 0 and 1 carry A
  // alone at share 1: one group of capacity min(64, 50) = 50.
  const std::vector<FlowPath> paths{FlowPath({0, 1}), FlowPath({2})};
  const std::vector<BytesPerSecond> capacity{64, 50, 30};
  const LinkGroups groups = group_links(capacity.size(), pointers(paths));
  EXPECT_EQ(groups.group_of[0], groups.group_of[1]);
  EXPECT_EQ(grouped_path(paths[0], groups).links.size(), 1u);
  EXPECT_DOUBLE_EQ(group_capacity(groups, capacity)[0], 50);
  // 7 bytes through the group are 7 bytes on each member.
  std::vector<Bytes> group_bytes(groups.group_count, 0.0);
  group_bytes[static_cast<std::size_t>(groups.group_of[0])] = 7;
  const auto bytes = link_bytes_from_groups(groups, group_bytes);
  EXPECT_DOUBLE_EQ(bytes[0], 7);
  EXPECT_DOUBLE_EQ(bytes[1], 7);
  EXPECT_DOUBLE_EQ(bytes[2], 0);
}

TEST(LinkGroups, LinksThatDifferInOneFlowStayApart) {
  // Link 0 carries A and B, link 1 only A: different constraints, two groups.
  const std::vector<FlowPath> paths{FlowPath({0, 1}), FlowPath({0})};
  const LinkGroups groups = group_links(2, pointers(paths));
  EXPECT_NE(groups.group_of[0], groups.group_of[1]);
  // Link 0 (10) holds A + B <= 10, link 1 (4) holds A <= 4: A = 4, B = 6, grouped or not.
  EXPECT_EQ(grouped_rates({10, 4}, paths), solve_max_min({10, 4}, paths));
  EXPECT_DOUBLE_EQ(grouped_rates({10, 4}, paths)[1], 6);
}

TEST(LinkGroups, ProportionalColumnsMergeWithAScale) {
  // Link 0 carries half of A and half of B, link 1 all of both: link 1 = 2 x link 0's load.
  const std::vector<FlowPath> paths{FlowPath({0, 1}, {0.5, 1}), FlowPath({0, 1}, {0.5, 1})};
  const LinkGroups groups = group_links(2, pointers(paths));
  ASSERT_EQ(groups.group_of[0], groups.group_of[1]);
  EXPECT_DOUBLE_EQ(groups.scale[1], 2);
  // Link 0 (30): 0.5 (rA + rB) <= 30, so rA + rB <= 60; link 1 (40): rA + rB <= 40, tighter.
  // The group: min(30 / 1, 40 / 2) = 20 on the representative's share 0.5: rA + rB <= 40,
  // 20 each.
  EXPECT_DOUBLE_EQ(group_capacity(groups, {30, 40})[0], 20);
  EXPECT_DOUBLE_EQ(grouped_rates({30, 40}, paths)[0], 20);
  EXPECT_EQ(grouped_rates({30, 40}, paths), solve_max_min({30, 40}, paths));
}

}  // namespace
}  // namespace moesim::sim
