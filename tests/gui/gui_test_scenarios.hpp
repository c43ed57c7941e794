#pragma once
// Scenario files the GUI tests write to a temporary directory.
#include <QDir>
#include <QFile>
#include <QString>
#include <string>

namespace moesim::gui::test {

// Mixtral on one H100 node, EP 8, Zipf-skewed routing, 8 redundant slots: two slots a GPU, so a
// swap can put two hot experts together, and every expert starts with a replica to remove.
inline constexpr const char* kSkewedEp8 = R"({
  "schema_version": 1,
  "name": "skewed-ep8",
  "model": "mixtral-8x7b",
  "cluster": "h100x8",
  "parallelism": {"expert_parallel": 8, "overlap": "none"},
  "placement": {"strategy": "contiguous", "redundant_experts": 8},
  "policy": {"capacity_factor": null},
  "workload": {"kind": "prefill", "tokens_per_gpu": 4096, "context_tokens": 4096,
               "routing": {"generator": "zipf", "zipf_exponent": 1.2, "seed": 3}},
  "profile": "roofline"
})";

// DeepSeek-V3 prefill on 8 HGX H200 nodes (64 GPUs), EP 64, Zipf routing.
inline constexpr const char* kDeepSeekV3On64 = R"({
  "schema_version": 1,
  "name": "dsv3-prefill-h200x64",
  "model": {"preset": "deepseek-v3", "weight_bytes": 1, "dispatch_bytes": 1, "combine_bytes": 2},
  "cluster": {"preset": "h200x256", "nodes": 8},
  "parallelism": {"expert_parallel": 64, "micro_batches": 2, "overlap": "two-micro-batch"},
  "placement": {"strategy": "contiguous", "redundant_experts": 64},
  "policy": {"capacity_factor": null},
  "workload": {"kind": "prefill", "tokens_per_gpu": 4096, "context_tokens": 4096,
               "routing": {"generator": "zipf", "zipf_exponent": 0.2, "seed": 1}},
  "profile": "roofline"
})";

// Two mistakes the CLI reports by JSON pointer.
inline constexpr const char* kBadScenario = R"({
  "schema_version": 1,
  "name": "bad",
  "model": "mixtral-8x7b",
  "cluster": "h100x8",
  "parallelism": {"expert_parallel": 8, "micro_batches": 0},
  "workload": {"kind": "prefill", "tokens_per_gpu": 4096}
})";

inline std::string write_scenario(const QDir& dir, const QString& name, const char* text) {
  const QString path = dir.filePath(name);
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return {};
  file.write(text);
  return path.toStdString();
}

}  // namespace moesim::gui::test
