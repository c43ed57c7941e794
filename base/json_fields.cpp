#include "base/json_fields.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "base/strict_json.hpp"

namespace moesim {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitute});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string format_bound(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const std::string> candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  if (best || word.size() < 4) return best;
  // A field written without its unit ("ttft_p90" for "ttft_p90_ms"): the name and an underscore
  // start the candidate, however long the suffix.
  for (const auto& candidate : candidates)
    if (candidate.size() > word.size() && candidate.starts_with(word) &&
        candidate[word.size()] == '_')
      return candidate;
  return best;
}

std::string describe_range(std::string_view kind, double min, double max, bool min_exclusive) {
  const bool bounded_above = max < std::numeric_limits<double>::max() / 2 &&
                             max < static_cast<double>(std::numeric_limits<std::int64_t>::max());
  const bool bounded_below = min > std::numeric_limits<double>::lowest() / 2 &&
                             min > static_cast<double>(std::numeric_limits<std::int64_t>::min());
  if (bounded_above && bounded_below && !min_exclusive && min == max)
    return fmt::format("expected {}", format_bound(min));
  if (bounded_above && bounded_below && !min_exclusive)
    return fmt::format("expected {} in [{}, {}]", kind, format_bound(min), format_bound(max));
  if (bounded_above && bounded_below)
    return fmt::format("expected {} in ({}, {}]", kind, format_bound(min), format_bound(max));
  if (bounded_below)
    return fmt::format("expected {} {} {}", kind, min_exclusive ? ">" : ">=", format_bound(min));
  if (bounded_above) return fmt::format("expected {} <= {}", kind, format_bound(max));
  return fmt::format("expected {}", kind);
}

FieldReader::FieldReader(const nlohmann::json& object, std::string path, ProblemList& problems,
                         std::span<const std::string_view> declared)
    : path_(std::move(path)), problems_(problems), declared_(declared) {
  if (object.is_object()) {
    object_ = &object;
  } else {
    problems_.add(path_, "expected an object, got " + describe_json_value(object));
  }
}

bool FieldReader::has(std::string_view key) const {
  return object_ != nullptr && object_->contains(key);
}

std::string FieldReader::path_of(std::string_view key) const {
  return json_pointer_child(path_, key);
}

const nlohmann::json* FieldReader::lookup(std::string_view key, bool required,
                                          const std::string& expected) {
  if (!declared_.empty() && std::find(declared_.begin(), declared_.end(), key) == declared_.end())
    throw std::logic_error(
        fmt::format("field '{}' under '{}' is read but not declared", key, path_));
  known_.emplace(key);
  if (object_ == nullptr) return nullptr;
  const auto it = object_->find(key);
  if (it == object_->end()) {
    if (required) problems_.add(path_of(key), "missing required field (" + expected + ")");
    return nullptr;
  }
  return &*it;
}

std::int64_t FieldReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                  std::optional<std::int64_t> fallback) {
  const std::string expected =
      describe_range("an integer", static_cast<double>(min), static_cast<double>(max), false);
  const nlohmann::json* value = lookup(key, !fallback, expected);
  if (value == nullptr) return fallback.value_or(min);
  if (value->is_number_integer()) {
    // A value above int64's range arrives unsigned; it is out of range like any other.
    const bool too_big = value->is_number_unsigned() &&
                         value->get<std::uint64_t>() > static_cast<std::uint64_t>(max);
    if (!too_big) {
      const auto number = value->get<std::int64_t>();
      if (number >= min && number <= max) return number;
    }
  }
  problems_.add(path_of(key), expected + ", got " + describe_json_value(*value));
  return fallback.value_or(min);
}

double FieldReader::number(std::string_view key, double min, double max,
                           std::optional<double> fallback, bool min_exclusive) {
  const std::string expected = describe_range("a number", min, max, min_exclusive);
  const nlohmann::json* value = lookup(key, !fallback, expected);
  if (value == nullptr) return fallback.value_or(min);
  if (value->is_number()) {
    const double number = value->get<double>();
    const bool above_min = min_exclusive ? number > min : number >= min;
    if (above_min && number <= max) return number;
  }
  problems_.add(path_of(key), expected + ", got " + describe_json_value(*value));
  return fallback.value_or(min);
}

std::optional<double> FieldReader::optional_number(std::string_view key, double min, double max,
                                                   bool min_exclusive) {
  lookup(key, false, "");
  if (!has(key) || (*object_)[std::string(key)].is_null()) return std::nullopt;
  return number(key, min, max, min, min_exclusive);
}

bool FieldReader::boolean(std::string_view key, std::optional<bool> fallback) {
  const nlohmann::json* value = lookup(key, !fallback, "expected true or false");
  if (value == nullptr) return fallback.value_or(false);
  if (value->is_boolean()) return value->get<bool>();
  problems_.add(path_of(key), "expected true or false, got " + describe_json_value(*value));
  return fallback.value_or(false);
}

std::string FieldReader::string(std::string_view key, std::optional<std::string> fallback) {
  const nlohmann::json* value = lookup(key, !fallback, "expected a string");
  if (value == nullptr) return fallback.value_or("");
  if (value->is_string()) return value->get<std::string>();
  problems_.add(path_of(key), "expected a string, got " + describe_json_value(*value));
  return fallback.value_or("");
}

std::string FieldReader::choice(std::string_view key, std::span<const std::string_view> choices,
                                std::optional<std::string> fallback) {
  std::string listed;
  for (auto option : choices)
    listed += (listed.empty() ? "" : ", ") + fmt::format("\"{}\"", option);
  const std::string expected = "expected one of " + listed;
  const nlohmann::json* value = lookup(key, !fallback, expected);
  if (value == nullptr) return fallback.value_or("");
  if (value->is_string()) {
    const auto text = value->get<std::string>();
    if (std::find(choices.begin(), choices.end(), text) != choices.end()) return text;
    std::vector<std::string> names(choices.begin(), choices.end());
    const auto suggestion = did_you_mean(text, names);
    problems_.add(path_of(key),
                  expected + ", got " + describe_json_value(*value) +
                      (suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : ""));
    return fallback.value_or(std::string(choices.front()));
  }
  problems_.add(path_of(key), expected + ", got " + describe_json_value(*value));
  return fallback.value_or(std::string(choices.front()));
}

const nlohmann::json* FieldReader::child(std::string_view key, bool required) {
  return lookup(key, required, "expected a value");
}

void FieldReader::finish() {
  if (object_ == nullptr) return;
  const std::vector<std::string> known(known_.begin(), known_.end());
  for (const auto& [key, value] : object_->items()) {
    if (known_.contains(key)) continue;
    const auto suggestion = did_you_mean(key, known);
    problems_.add(path_of(key),
                  suggestion ? fmt::format("unknown field; did you mean \"{}\"?", *suggestion)
                             : "unknown field");
  }
}

std::optional<double> positive_number_at(const nlohmann::json& root, const std::string& pointer,
                                         ProblemList& problems, double max) {
  const nlohmann::json::json_pointer where(pointer);
  const std::string expected = describe_range("a number", 0, max, true);
  if (!root.contains(where)) {
    problems.add(pointer, "missing required field (" + expected + ")");
    return std::nullopt;
  }
  const nlohmann::json& value = root.at(where);
  if (!value.is_number() || !(value.get<double>() > 0) || !std::isfinite(value.get<double>()) ||
      value.get<double>() > max) {
    problems.add(pointer, expected + ", got " + describe_json_value(value));
    return std::nullopt;
  }
  return value.get<double>();
}

}  // namespace moesim
