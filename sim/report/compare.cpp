#include "sim/report/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "base/config_error.hpp"
#include "sim/report/compare_step_rows.hpp"
#include "sim/report/report.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr const char* kNumbers[] = {"step_time_ms",
                                    "tokens_per_s",
                                    "tokens_per_s_per_gpu",
                                    "time_per_output_token_ms",
                                    "imbalance_max_over_mean",
                                    "drop_rate",
                                    "unrouted_rate",
                                    "peak_memory_gib_per_gpu",
                                    "cost_per_million_tokens_usd"};
constexpr const char* kExposed[] = {"dense_ms",   "gate_ms",    "dispatch_ms",
                                    "experts_ms", "combine_ms", "wait_ms"};

std::optional<double> number_at(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  const double value = object[key].get<double>();
  return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

const Json& object_at(const Json& parent, const char* key) {
  static const Json kEmpty = Json::object();
  return parent.is_object() && parent.contains(key) && parent[key].is_object() ? parent[key]
                                                                               : kEmpty;
}

std::string text_at(const Json& object, const char* key) {
  return object.contains(key) && object[key].is_string() ? object[key].get<std::string>() : "-";
}

std::string number_text(const std::optional<double>& value) {
  return value ? fmt::format("{:.6g}", *value) : "-";
}

std::string delta_text(const std::optional<double>& base, const std::optional<double>& value) {
  if (!base || !value) return "";
  if (*base == 0) return *value == 0 ? " (=)" : fmt::format(" ({:+.4g})", *value - *base);
  return fmt::format(" ({:+.1f}%)", 100 * (*value - *base) / std::abs(*base));
}

}  // namespace

Comparison compare_side_by_side(const std::vector<Json>& reports,
                                const std::vector<std::string>& labels) {
  // Columns of another schema would line up fields that mean other things (as check refuses).
  for (std::size_t r = 0; r < reports.size(); ++r)
    if (const auto version = reports[r]["schema_version"].get<std::int64_t>();
        version != kReportSchemaVersion)
      throw ConfigError(
          r < labels.size() ? labels[r] : "report",
          {{"/schema_version", fmt::format("expected {} (the report schema this moesim reads), got "
                                           "{}; re-run it with this moesim",
                                           kReportSchemaVersion, version)}});
  Comparison c;
  c.labels = labels;
  ComparedRow profile{"profile_source", {}, {}}, bottleneck{"bottleneck", {}, {}};
  for (const auto& report : reports) {
    c.scenarios.push_back(text_at(report, "scenario"));
    const Json& summary = object_at(report, "summary");
    profile.texts.push_back(text_at(summary, "profile_source"));
    const Json& account = object_at(summary, "step_account");
    const Json& limit = object_at(account, "bottleneck");
    bottleneck.texts.push_back(limit.empty() ? "-"
                                             : fmt::format("{} ({})", text_at(limit, "phase"),
                                                           text_at(limit, "resource")));
  }
  c.rows.push_back(profile);
  for (const char* key : kNumbers) {
    ComparedRow row{key, {}, {}};
    for (const auto& report : reports)
      row.values.push_back(number_at(object_at(report, "summary"), key));
    c.rows.push_back(std::move(row));
  }
  for (const char* key : kExposed) {
    ComparedRow row{fmt::format("exposed {}", key), {}, {}};
    for (const auto& report : reports)
      row.values.push_back(number_at(
          object_at(object_at(object_at(report, "summary"), "step_account"), "blocks_exposed"),
          key));
    c.rows.push_back(std::move(row));
  }
  append_step_rows(reports, c.rows);
  c.rows.push_back(bottleneck);
  return c;
}

std::string comparison_text(const Comparison& c) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"figure"});
  for (std::size_t r = 0; r < c.labels.size(); ++r)
    cells[0].push_back(fmt::format("{} ({})", c.labels[r], c.scenarios[r]));
  for (const auto& row : c.rows) {
    std::vector<std::string> line{row.figure};
    for (std::size_t r = 0; r < c.labels.size(); ++r)
      line.push_back(row.values.empty()
                         ? row.texts[r]
                         : number_text(row.values[r]) +
                               (r == 0 ? "" : delta_text(row.values[0], row.values[r])));
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(c.labels.size() + 1, 0);
  for (const auto& line : cells)
    for (std::size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], line[i].size());
  std::string text;
  for (const auto& line : cells) {
    for (std::size_t i = 0; i + 1 < line.size(); ++i)
      text += fmt::format("{:<{}}  ", line[i], widths[i]);
    text += line.back() + "\n";  // the last column unpadded: no trailing blanks
  }
  return text;
}

std::string comparison_csv(const Comparison& c) {
  // RFC 4180: a field in quotes, its quotes doubled.
  auto quoted = [](const std::string& field) {
    std::string out;
    for (char ch : field) {
      out.push_back(ch);
      if (ch == '"') out.push_back('"');
    }
    return fmt::format("\"{}\"", out);
  };
  std::string csv = "figure";
  for (const auto& label : c.labels) csv += fmt::format(",{}", quoted(label));
  for (std::size_t r = 1; r < c.labels.size(); ++r)
    csv += fmt::format(",{},{}", quoted(fmt::format("{} delta", c.labels[r])),
                       quoted(fmt::format("{} relative", c.labels[r])));
  csv += '\n';
  for (const auto& row : c.rows) {
    csv += quoted(row.figure);
    for (std::size_t r = 0; r < c.labels.size(); ++r) {
      if (row.values.empty())
        csv += fmt::format(",{}", quoted(row.texts[r]));
      else if (row.values[r])
        csv += fmt::format(",{:.17g}", *row.values[r]);
      else
        csv += ',';
    }
    for (std::size_t r = 1; r < c.labels.size(); ++r) {
      const auto& base = row.values.empty() ? std::nullopt : row.values[0];
      const auto& value = row.values.empty() ? std::nullopt : row.values[r];
      if (base && value)
        csv += fmt::format(",{:.17g},{}", *value - *base,
                           *base != 0 ? fmt::format("{:.17g}", (*value - *base) / std::abs(*base))
                                      : std::string());
      else
        csv += ",,";
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace moesim::sim
