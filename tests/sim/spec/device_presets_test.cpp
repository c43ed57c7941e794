#include "sim/spec/device_presets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "topology/node_system.hpp"

namespace moesim::sim {
namespace {

TEST(DevicePresets, NamesAreUniqueAndEveryFigureIsPositive) {
  std::set<std::string> names;
  for (const auto& device : device_presets()) {
    SCOPED_TRACE(device.name);
    EXPECT_TRUE(names.insert(device.name).second);
    EXPECT_GT(device.bf16_flops, 0);
    EXPECT_GT(device.hbm_bytes, 0);
    EXPECT_GT(device.hbm_bandwidth, 0);
    EXPECT_FALSE(device.source.empty());
  }
}

TEST(DevicePresets, FpEightDoublesBfSixteenRoughly) {
  // Every listed part runs FP8 at twice its BF16 rate; datasheets round each figure on its own
  // (H100: 1979 vs 2 x 989 = 1978), so allow 0.1%.
  for (const auto& device : device_presets())
    EXPECT_NEAR(device.fp8_flops / device.bf16_flops, 2.0, 2e-3) << device.name;
}

TEST(DevicePresets, HundredSxmIsTheDenseDatasheetColumn) {
  const DeviceSpec* h100 = find_device("h100-sxm");
  ASSERT_NE(h100, nullptr);
  // Datasheet: 1979 TFLOPS BF16 "with sparsity" -> dense is about half: 989 TFLOPS.
  EXPECT_DOUBLE_EQ(h100->bf16_flops, 989e12);
  // 80 GB HBM3 at 3.35 TB/s.
  EXPECT_DOUBLE_EQ(h100->hbm_bytes, 80e9);
  EXPECT_DOUBLE_EQ(h100->hbm_bandwidth, 3.35e12);
}

TEST(DevicePresets, TheH800IsAnH100WithHalfItsNvlink) {
  // Same GH100 compute and 80 GB HBM3 at 3.35 TB/s; NVLink 400 GB/s both ways = 200 GB/s a
  // direction against the H100's 450 (DeepSeek-V3 report, section 3.2.1).
  const DeviceSpec* h800 = find_device("h800");
  const DeviceSpec* h100 = find_device("h100-sxm");
  ASSERT_NE(h800, nullptr);
  EXPECT_DOUBLE_EQ(h800->fp8_flops, h100->fp8_flops);
  EXPECT_DOUBLE_EQ(h800->hbm_bandwidth, h100->hbm_bandwidth);
  const auto* node = topology::find_node_system("hgx-h800");
  ASSERT_NE(node, nullptr);
  EXPECT_DOUBLE_EQ(node->scale_up_bandwidth, 200e9);
  EXPECT_EQ(node->default_device, "h800");
}

TEST(DevicePresets, TheH20HasAFifthOfTheH100sComputeAndMoreHbm) {
  // The post's table: BF16 148 of the H100's 989 TFLOPS (0.15), FP8 twice BF16, 96 GB at
  // 4.0 TB/s against 3.35; NVLink as the H100's, 450 GB/s a direction.
  const DeviceSpec* h20 = find_device("h20");
  ASSERT_NE(h20, nullptr);
  EXPECT_DOUBLE_EQ(h20->fp8_flops, 2 * h20->bf16_flops);
  EXPECT_NEAR(h20->bf16_flops / find_device("h100-sxm")->bf16_flops, 0.1496, 1e-4);
  EXPECT_DOUBLE_EQ(h20->hbm_bytes, 96e9);
  const auto* node = topology::find_node_system("hgx-h20");
  ASSERT_NE(node, nullptr);
  EXPECT_DOUBLE_EQ(node->scale_up_bandwidth, 450e9);
  EXPECT_EQ(node->default_device, "h20");
}

TEST(DevicePresets, BlackwellFiguresArePerGpuSharesOfTheSystemTotals) {
  // HGX B200 (8 GPUs): 72 PFLOPS FP8 sparse -> 72 / 8 / 2 = 4.5 PFLOPS dense per GPU;
  // 1.44 TB HBM -> 180 GB; 64 TB/s -> 8 TB/s.
  const DeviceSpec* b200 = find_device("b200");
  ASSERT_NE(b200, nullptr);
  EXPECT_DOUBLE_EQ(b200->fp8_flops, 4.5e15);
  EXPECT_DOUBLE_EQ(b200->hbm_bytes, 180e9);
  EXPECT_DOUBLE_EQ(b200->hbm_bandwidth, 8e12);
  // GB200 NVL72 (72 GPUs): 720 PFLOPS FP8 sparse -> 720 / 72 / 2 = 5 PFLOPS; 576 TB/s -> 8 TB/s.
  const DeviceSpec* gb200 = find_device("gb200");
  ASSERT_NE(gb200, nullptr);
  EXPECT_DOUBLE_EQ(gb200->fp8_flops, 5e15);
  EXPECT_DOUBLE_EQ(gb200->hbm_bandwidth, 8e12);
}

TEST(DevicePresets, FindReturnsThePresetOfThatName) {
  for (const auto& device : device_presets()) EXPECT_EQ(find_device(device.name), &device);
}

TEST(DevicePresets, FindReturnsNullForAnUnknownName) {
  EXPECT_EQ(find_device("h100"), nullptr);  // the device is "h100-sxm"; "h100" is a profile
  EXPECT_EQ(find_device(""), nullptr);
  EXPECT_EQ(find_device("a100"), nullptr);
}

}  // namespace
}  // namespace moesim::sim
