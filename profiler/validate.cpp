#include "profiler/validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "kernels/moe_layer_executor.hpp"
#include "profiler/bench_harness.hpp"
#include "profiler/validation_cases.hpp"
#include "profiler/validation_report.hpp"
#include "sim/cost/measured_profile.hpp"

namespace moesim::profiler {
namespace {

constexpr const char* kPhases[] = {"gate_permute", "dispatch",  "experts",
                                   "combine",      "unpermute", "layer"};

}  // namespace

nlohmann::json run_validation(const nlohmann::json& profile, int runs, const Progress& progress) {
  const sim::MeasuredProfile model(profile, "profile");
  nlohmann::json cases = nlohmann::json::array();
  kernels::CudaStream stream;
  for (const ModelShape& shape : profiled_models()) {
    kernels::MoeLayerConfig config = validation_config(shape);
    kernels::MoeLayerExecutor layer(config, stream.get());
    for (const ValidationCase& c : kValidationCases) {
      const Routing routing = validation_routing(shape, c);
      const auto counts = expert_histogram(routing.expert_ids, shape.experts);
      const std::vector<double> histogram(counts.begin(), counts.end());
      // The executor uses the GEMM back end the profile predicts to be faster for this histogram.
      const sim::LayerPrediction loop = model.predict_ep1(shape.name, c.tokens, histogram, "loop");
      const sim::LayerPrediction grouped =
          model.predict_ep1(shape.name, c.tokens, histogram, "grouped");
      const bool use_loop = loop.layer <= grouped.layer;
      const std::string method_name = use_loop ? "loop" : "grouped";
      const sim::LayerPrediction& pred = use_loop ? loop : grouped;
      progress(fmt::format("validate {} {} {} ({})", shape.name, c.batch, c.routing, method_name));
      layer.set_gemm_method(use_loop ? kernels::GemmMethod::Loop : kernels::GemmMethod::Grouped);
      layer.set_routing(routing.expert_ids, routing.weights, c.tokens);
      // Warm up by time as well as by count: a sub-millisecond layer needs many runs before
      // clocks and cuBLAS settle (seen on H100: the first case ran 2x slow after 10 runs).
      double warm_ms = 0;
      for (int i = 0; i < 10 || warm_ms < 300; ++i) warm_ms += layer.run().layer_ms;
      std::vector<std::vector<double>> samples(std::size(kPhases));
      for (int i = 0; i < runs; ++i) {
        const kernels::MoePhaseTimes t = layer.run();
        const double values[] = {t.gate_permute_ms, t.dispatch_ms,  t.experts_ms,
                                 t.combine_ms,      t.unpermute_ms, t.layer_ms};
        for (std::size_t p = 0; p < std::size(kPhases); ++p) samples[p].push_back(values[p] * 1000);
      }
      const double predicted[] = {pred.gate_permute, pred.dispatch,  pred.experts,
                                  pred.combine,      pred.unpermute, pred.layer};
      nlohmann::json phases = nlohmann::json::object();
      for (std::size_t p = 0; p < std::size(kPhases); ++p)
        phases[kPhases[p]] = phase_entry(samples[p], predicted[p]);
      cases.push_back(
          {{"model", shape.name},
           {"batch", c.batch},
           {"tokens", c.tokens},
           {"routing", c.routing},
           {"ep", 1},
           {"gemm_method", method_name},
           {"max_tokens_per_expert", *std::max_element(histogram.begin(), histogram.end())},
           {"expert_histogram", counts},  // so the prediction can be re-derived offline
           {"runs", runs},
           {"phases", phases}});
    }
  }
  return validation_result(std::move(cases));
}

}  // namespace moesim::profiler
