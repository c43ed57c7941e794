#include "profiler/validation_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "profiler/stats.hpp"

namespace moesim::profiler {

nlohmann::json phase_entry(const std::vector<double>& measured_samples_us, double predicted_us) {
  const Stats stats = summarise(measured_samples_us);
  const double measured = stats.median_us;
  return {{"measured_us", measured},
          {"predicted_us", predicted_us},
          {"spread", stats.spread},
          {"error", measured > 0 ? (predicted_us - measured) / measured : 0.0}};
}

nlohmann::json validation_result(nlohmann::json cases) {
  std::vector<double> errors;
  for (const auto& c : cases)
    errors.push_back(std::abs(c["phases"]["layer"]["error"].get<double>()));
  std::sort(errors.begin(), errors.end());
  const std::size_t n = errors.size();
  const double median = n == 0       ? 0
                        : n % 2 == 1 ? errors[n / 2]
                                     : (errors[n / 2 - 1] + errors[n / 2]) / 2;
  return {
      {"cases", std::move(cases)},
      {"summary",
       {{"median_abs_layer_error", median}, {"max_abs_layer_error", n == 0 ? 0 : errors.back()}}}};
}

std::string accuracy_markdown(const nlohmann::json& validation) {
  std::string out =
      "| case | GEMM | measured ms | predicted ms | error |\n|---|---|---:|---:|---:|\n";
  for (const auto& c : validation["cases"]) {
    const auto& layer = c["phases"]["layer"];
    out +=
        fmt::format("| {} {} T={} {} EP={} | {} | {:.3f} | {:.3f} | {:+.1f}% |\n",
                    c["model"].get<std::string>(), c["batch"].get<std::string>(),
                    c["tokens"].get<int>(), c["routing"].get<std::string>(), c["ep"].get<int>(),
                    c["gemm_method"].get<std::string>(), layer["measured_us"].get<double>() / 1000,
                    layer["predicted_us"].get<double>() / 1000, 100 * layer["error"].get<double>());
  }
  out += fmt::format("\nMedian |error| on layer time: {:.1f}%; worst: {:.1f}%.\n\n",
                     100 * validation["summary"]["median_abs_layer_error"].get<double>(),
                     100 * validation["summary"]["max_abs_layer_error"].get<double>());
  out +=
      "Per phase (measured / predicted, ms):\n\n| case | gate+permute | dispatch | experts | "
      "combine | unpermute |\n|---|---|---|---|---|---|\n";
  for (const auto& c : validation["cases"]) {
    out += fmt::format("| {} {} {} |", c["model"].get<std::string>(), c["batch"].get<std::string>(),
                       c["routing"].get<std::string>());
    for (const char* phase : {"gate_permute", "dispatch", "experts", "combine", "unpermute"}) {
      const auto& p = c["phases"][phase];
      out += fmt::format(" {:.3f} / {:.3f} |", p["measured_us"].get<double>() / 1000,
                         p["predicted_us"].get<double>() / 1000);
    }
    out += "\n";
  }
  return out;
}

std::string ep_markdown(const nlohmann::json& ep_cases) {
  if (ep_cases.empty()) return "";
  std::string out =
      "| case | EP | GEMM | gate+permute | count exchange | dispatch | experts | combine | "
      "unpermute | layer (slowest rank) |\n|---|---:|---|---|---|---|---|---|---|---:|\n";
  for (const auto& c : ep_cases) {
    out += fmt::format("| {} {} T={}/rank {} | {} | {} |", c["model"].get<std::string>(),
                       c["batch"].get<std::string>(), c["tokens_per_rank"].get<int>(),
                       c["routing"].get<std::string>(), c["ep"].get<int>(),
                       c["gemm_method"].get<std::string>());
    for (const char* phase :
         {"gate_permute", "count_exchange", "dispatch", "experts", "combine", "unpermute"}) {
      std::string per_rank;
      for (const auto& median : c["phases"][phase]["rank_median_us"])
        per_rank +=
            fmt::format("{}{:.3f}", per_rank.empty() ? "" : " / ", median.get<double>() / 1000);
      out += " " + per_rank + " |";
    }
    out += fmt::format(" {:.3f} |\n", c["phases"]["layer"]["median_us"].get<double>() / 1000);
  }
  return out +
         "\nms. Phases: each rank's median (rank 0 / rank 1 / ...); a rank that finishes its "
         "experts "
         "early waits for its peers inside combine. Layer: median over runs of the slowest rank. "
         "The count exchange is part of dispatch.\n";
}

nlohmann::json executor_timings(const nlohmann::json& provenance, const nlohmann::json& ep1,
                                const nlohmann::json& ep_cases) {
  return {
      {"schema_version", 1},
      {"kind", "moesim-executor-timings"},
      {"provenance", provenance},
      {"ep1", ep1.is_object() && ep1.contains("cases") ? ep1["cases"] : nlohmann::json::array()},
      {"ep", ep_cases}};
}

}  // namespace moesim::profiler
