#include "sim/report/compare_step_rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// The value at a JSON pointer, or null when any part of the path is missing.
const Json& at_pointer(const Json& report, const char* pointer) {
  static const Json kNull;
  const Json::json_pointer path(pointer);
  return report.contains(path) ? report[path] : kNull;
}

std::optional<double> finite_or_none(const Json& value) {
  if (!value.is_number()) return std::nullopt;
  const double v = value.get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

// One row per key of the objects at `pointer` (their union, in first-seen order), named
// `prefix` + key.
void object_rows(const std::vector<Json>& reports, const char* pointer, const std::string& prefix,
                 std::vector<ComparedRow>& rows) {
  std::vector<std::string> keys;
  for (const auto& report : reports)
    if (const Json& object = at_pointer(report, pointer); object.is_object())
      for (const auto& [key, value] : object.items())
        if (value.is_number() && std::find(keys.begin(), keys.end(), key) == keys.end())
          keys.push_back(key);
  for (const auto& key : keys) {
    ComparedRow row{prefix + key, {}, {}};
    for (const auto& report : reports) {
      const Json& object = at_pointer(report, pointer);
      row.values.push_back(object.is_object() && object.contains(key) ? finite_or_none(object[key])
                                                                      : std::nullopt);
    }
    rows.push_back(std::move(row));
  }
}

// The step items, an array of {name, ms}: a row each, "step <name>".
void step_item_rows(const std::vector<Json>& reports, std::vector<ComparedRow>& rows) {
  constexpr const char* kItems = "/summary/step_account/step_items";
  std::vector<std::string> names;
  for (const auto& report : reports)
    if (const Json& items = at_pointer(report, kItems); items.is_array())
      for (const auto& item : items)
        // Compared as a std::string: GCC 13's C++20 rewritten operators make string == json
        // ambiguous with nlohmann 3.11.2.
        if (item.contains("name") && item["name"].is_string())
          if (const auto name = item["name"].get<std::string>();
              std::find(names.begin(), names.end(), name) == names.end())
            names.push_back(name);
  for (const auto& name : names) {
    ComparedRow row{"step " + name + " ms", {}, {}};
    for (const auto& report : reports) {
      std::optional<double> value;  // absent: the report has no such item (0 ms)
      if (const Json& items = at_pointer(report, kItems); items.is_array())
        for (const auto& item : items)
          if (item.value("name", "") == name && item.contains("ms"))
            value = finite_or_none(item["ms"]);
      row.values.push_back(value);
    }
    rows.push_back(std::move(row));
  }
}

}  // namespace

void append_step_rows(const std::vector<Json>& reports, std::vector<ComparedRow>& rows) {
  object_rows(reports, "/summary/step_account/backward_exposed", "backward exposed ", rows);
  step_item_rows(reports, rows);
  object_rows(reports, "/training/pipeline", "training pipeline ", rows);
  // The step items already hold the training's other phases.
  for (const char* pointer :
       {"/training/phases_ms/forward_ms", "/training/phases_ms/backward_ms",
        "/training/stage_forward_ms", "/training/stage_backward_ms", "/training/send_recv_ms",
        "/training/gradient_reduce_work_ms", "/training/param_all_gather_work_ms"}) {
    const std::string path = pointer;
    ComparedRow row{"training " + path.substr(path.rfind('/') + 1), {}, {}};
    for (const auto& report : reports)
      row.values.push_back(finite_or_none(at_pointer(report, pointer)));
    if (std::any_of(row.values.begin(), row.values.end(), [](auto& v) { return v.has_value(); }))
      rows.push_back(std::move(row));
  }
}

}  // namespace moesim::sim
