#include "sim/spec/choices.hpp"

#include <gtest/gtest.h>

#include <set>

namespace moesim::sim {
namespace {

// Every enumerator of `Enum` (0 .. count-1) has exactly one name, and each name maps back to it.
template <typename Enum>
void expect_one_name_per_value(int count) {
  const auto& names = kChoiceNames<Enum>;
  EXPECT_EQ(names.size(), static_cast<std::size_t>(count));
  std::set<std::string_view> distinct(names.begin(), names.end());
  EXPECT_EQ(distinct.size(), names.size());
  for (int i = 0; i < count; ++i) {
    const auto value = static_cast<Enum>(i);
    const auto name = choice_name(value);
    EXPECT_NE(name, "?") << "enumerator " << i << " has no name";
    EXPECT_EQ(choice_from_name<Enum>(name), value) << name;
  }
}

TEST(Choices, EveryEnumeratorHasOneNameThatMapsBack) {
  expect_one_name_per_value<Gating>(2);
  expect_one_name_per_value<FabricKind>(3);
  expect_one_name_per_value<Overlap>(4);
  expect_one_name_per_value<WorkloadKind>(3);
  expect_one_name_per_value<DropPolicy>(2);
  expect_one_name_per_value<RoutingMode>(2);
  expect_one_name_per_value<ReplicaChoice>(3);
  expect_one_name_per_value<PopularityKind>(2);
  expect_one_name_per_value<NetworkModelKind>(3);
  expect_one_name_per_value<DispatchKind>(2);
  expect_one_name_per_value<AllToAllKind>(3);
  expect_one_name_per_value<PlacementStrategy>(6);
  expect_one_name_per_value<TraceGeneratorKind>(3);
}

TEST(Choices, UnknownNamesAreNotTheFirstValue) {
  // enum_at used to map any unknown name to index 0; the table answers "none" instead.
  EXPECT_FALSE(choice_from_name<PlacementStrategy>("random").has_value());
  EXPECT_FALSE(choice_from_name<Overlap>("").has_value());
  EXPECT_FALSE(choice_from_name<ReplicaChoice>("Round-Robin").has_value());  // names are exact
}

TEST(Choices, TableOrderIsTheOrderUsersSee) {
  // FabricKind's enumerators start at None, but the scenario format lists ib-fat-tree first.
  EXPECT_EQ(kChoiceNames<FabricKind>[0], "ib-fat-tree");
  EXPECT_EQ(choice_name(FabricKind::None), "none");
  EXPECT_EQ(choice_list<DispatchKind>(), "direct or hierarchical");
  EXPECT_EQ(choice_list<ReplicaChoice>(), "round-robin, same-node-first or least-loaded");
}

TEST(Choices, QuotedListQuotesEachName) {
  // The plan parser's messages quote the names as the file spells them.
  EXPECT_EQ(choice_list<DispatchKind>("\""), "\"direct\" or \"hierarchical\"");
  EXPECT_EQ(choice_list<Overlap>("\""),
            "\"none\", \"comm-compute\", \"two-micro-batch\" or \"single-batch\"");
}

}  // namespace
}  // namespace moesim::sim
