#include "kernels/expert_ffn.hpp"

#include <cmath>
#include <stdexcept>

#include "kernels/fill.hpp"
#include "kernels/swiglu.hpp"

namespace moesim::kernels {

ExpertFfn::ExpertFfn(int local_experts, int hidden, int ffn, long long max_rows, int max_segments,
                     std::uint64_t seed, cudaStream_t stream)
    : local_experts_(local_experts),
      hidden_(hidden),
      ffn_(ffn),
      max_rows_(max_rows),
      gate_up_(static_cast<std::size_t>(local_experts) * 2 * ffn * hidden),
      down_(static_cast<std::size_t>(local_experts) * hidden * ffn),
      hidden_rows_(static_cast<std::size_t>(max_rows) * 2 * ffn),
      activated_(static_cast<std::size_t>(max_rows) * ffn),
      gemm_(max_segments) {
  launch_fill_uniform_bf16(gate_up_.data(), static_cast<long long>(gate_up_.size()),
                           1.0f / std::sqrt(static_cast<float>(hidden)), seed, stream);
  launch_fill_uniform_bf16(down_.data(), static_cast<long long>(down_.size()),
                           1.0f / std::sqrt(static_cast<float>(ffn)), seed + 1, stream);
}

void ExpertFfn::run(const __nv_bfloat16* in, std::span<const ExpertSegment> segments,
                    __nv_bfloat16* out, GemmMethod method, cudaStream_t stream) {
  long long total_rows = 0;
  for (const ExpertSegment& s : segments) {
    if (s.expert < 0 || s.expert >= local_experts_) throw std::out_of_range("ExpertFfn: expert");
    if (s.first_row + s.rows > max_rows_) throw std::out_of_range("ExpertFfn: rows");
    total_rows = std::max(total_rows, s.first_row + s.rows);
  }
  const std::size_t up_stride = static_cast<std::size_t>(2) * ffn_ * hidden_;
  const std::size_t down_stride = static_cast<std::size_t>(hidden_) * ffn_;
  groups_.clear();
  for (const ExpertSegment& s : segments)
    groups_.push_back({in + s.first_row * hidden_, gate_up_.data() + s.expert * up_stride,
                       hidden_rows_.data() + s.first_row * 2 * ffn_, s.rows});
  gemm_.run(groups_, 2 * ffn_, hidden_, method, stream);
  launch_swiglu(hidden_rows_.data(), total_rows, ffn_, activated_.data(), stream);
  groups_.clear();
  for (const ExpertSegment& s : segments)
    groups_.push_back({activated_.data() + s.first_row * ffn_,
                       down_.data() + s.expert * down_stride, out + s.first_row * hidden_, s.rows});
  gemm_.run(groups_, hidden_, ffn_, method, stream);
}

}  // namespace moesim::kernels
