#include "cpu_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moesim::kernels::testing {

GatingResult reference_gating(const std::vector<float>& logits, int tokens, const GatingParams& p,
                              const std::vector<float>& bias) {
  GatingResult result;
  const int experts = p.experts;
  result.ids.resize(static_cast<std::size_t>(tokens) * p.top_k);
  result.weights.resize(result.ids.size());
  result.selection.resize(static_cast<std::size_t>(tokens) * experts);
  const double excluded = -std::numeric_limits<double>::infinity();
  for (int t = 0; t < tokens; ++t) {
    const float* row = logits.data() + static_cast<std::size_t>(t) * experts;
    std::vector<double> score(experts);
    std::vector<double> select(experts);
    if (p.mode == GatingMode::Softmax) {
      const double row_max = *std::max_element(row, row + experts);
      double sum = 0;
      for (int e = 0; e < experts; ++e) sum += score[e] = std::exp(row[e] - row_max);
      for (int e = 0; e < experts; ++e) select[e] = score[e] /= sum;
    } else {
      for (int e = 0; e < experts; ++e) {
        score[e] = 1.0 / (1.0 + std::exp(-static_cast<double>(row[e])));
        select[e] = score[e] + (bias.empty() ? 0.0 : bias[e]);
      }
    }
    std::copy(select.begin(), select.end(),
              result.selection.begin() + static_cast<long>(t) * experts);
    if (p.groups > 1) {
      const int per_group = experts / p.groups;
      std::vector<double> group_score(p.groups);
      for (int g = 0; g < p.groups; ++g) {
        std::vector<double> members(select.begin() + g * per_group,
                                    select.begin() + (g + 1) * per_group);
        std::sort(members.rbegin(), members.rend());
        group_score[g] =
            p.mode == GatingMode::Sigmoid && per_group > 1 ? members[0] + members[1] : members[0];
      }
      std::vector<int> order(p.groups);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return group_score[a] > group_score[b]; });
      std::vector<bool> kept(p.groups, false);
      for (int g = 0; g < p.topk_groups; ++g) kept[order[g]] = true;
      for (int e = 0; e < experts; ++e)
        if (!kept[e / per_group]) select[e] = excluded;
    }
    std::vector<int> order(experts);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return select[a] > select[b]; });
    double sum = 0;
    for (int k = 0; k < p.top_k; ++k) sum += score[order[k]];
    for (int k = 0; k < p.top_k; ++k) {
      const std::size_t slot = static_cast<std::size_t>(t) * p.top_k + k;
      result.ids[slot] = order[k];
      result.weights[slot] = score[order[k]] / (p.renormalize ? sum : 1.0) * p.scaling;
    }
  }
  return result;
}

void reference_routing(const std::vector<int>& expert_ids, int experts, std::vector<int>& dest_row,
                       std::vector<int>& counts) {
  counts.assign(experts, 0);
  for (int id : expert_ids) ++counts[id];
  std::vector<int> next(experts, 0);
  std::exclusive_scan(counts.begin(), counts.end(), next.begin(), 0);
  dest_row.resize(expert_ids.size());
  for (std::size_t i = 0; i < expert_ids.size(); ++i) dest_row[i] = next[expert_ids[i]]++;
}

std::vector<double> reference_matmul_nt(const std::vector<double>& a, const std::vector<double>& w,
                                        int rows, int n, int k) {
  std::vector<double> out(static_cast<std::size_t>(rows) * n);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < n; ++j) {
      double acc = 0;
      const double* ar = a.data() + static_cast<std::size_t>(r) * k;
      const double* wr = w.data() + static_cast<std::size_t>(j) * k;
      for (int i = 0; i < k; ++i) acc += ar[i] * wr[i];
      out[static_cast<std::size_t>(r) * n + j] = acc;
    }
  return out;
}

std::vector<double> reference_swiglu(const std::vector<double>& gate_up, int rows, int ffn) {
  std::vector<double> out(static_cast<std::size_t>(rows) * ffn);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < ffn; ++j) {
      const double g = gate_up[static_cast<std::size_t>(r) * 2 * ffn + j];
      const double u = gate_up[static_cast<std::size_t>(r) * 2 * ffn + ffn + j];
      out[static_cast<std::size_t>(r) * ffn + j] = g / (1.0 + std::exp(-g)) * u;
    }
  return out;
}

}  // namespace moesim::kernels::testing
