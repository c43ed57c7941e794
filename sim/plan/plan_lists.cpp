#include "sim/plan/plan_lists.hpp"

namespace moesim::sim {

using Json = nlohmann::json;

// An array of integers in [min, max] at `path`, or `fallback` when absent.
std::vector<int> int_list(const Json* value, const std::string& path, std::vector<int> fallback,
                          std::int64_t min, std::int64_t max, ProblemList& problems) {
  if (value == nullptr) return fallback;
  std::vector<int> numbers;
  if (!value->is_array() || value->empty()) {
    problems.add(path,
                 "expected a non-empty array of integers, got " + describe_json_value(*value));
    return fallback;
  }
  for (std::size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    // nlohmann keeps non-negative integers unsigned; one past int64 must not wrap negative.
    const bool in_range = item.is_number_unsigned()
                              ? item.get<std::uint64_t>() <= static_cast<std::uint64_t>(max) &&
                                    static_cast<std::int64_t>(item.get<std::uint64_t>()) >= min
                              : item.is_number_integer() && item.get<std::int64_t>() >= min &&
                                    item.get<std::int64_t>() <= max;
    if (!in_range)
      problems.add(path + "/" + std::to_string(i),
                   fmt::format("expected an integer in [{}, {}], got {}", min, max,
                               describe_json_value(item)));
    else
      numbers.push_back(item.get<int>());
  }
  return numbers;
}

std::vector<std::string> string_list(const Json* value, const std::string& path,
                                     std::vector<std::string> fallback, ProblemList& problems) {
  if (value == nullptr) return fallback;
  if (!value->is_array() || value->empty()) {
    problems.add(path, "expected a non-empty array of strings, got " + describe_json_value(*value));
    return fallback;
  }
  std::vector<std::string> items;
  for (std::size_t i = 0; i < value->size(); ++i) {
    if ((*value)[i].is_string())
      items.push_back((*value)[i].get<std::string>());
    else
      problems.add(path + "/" + std::to_string(i),
                   "expected a string, got " + describe_json_value((*value)[i]));
  }
  return items;
}

// Every (a, b) pair of the two lists, a outermost.
std::vector<std::pair<std::string, std::string>> combinations(const std::vector<std::string>& as,
                                                              const std::vector<std::string>& bs) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& a : as)
    for (const auto& b : bs) pairs.emplace_back(a, b);
  return pairs;
}

}  // namespace moesim::sim
