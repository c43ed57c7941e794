#pragma once
// The plan file's search lists: integers in a range, strings, choice names and their pairs, each
// problem recorded with its JSON path.
#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/choices.hpp"

namespace moesim::sim {

// An array of integers in [min, max] at `path`, or `fallback` when absent.
std::vector<int> int_list(const nlohmann::json* value, const std::string& path,
                          std::vector<int> fallback, std::int64_t min, std::int64_t max,
                          ProblemList& problems);

// An array of strings at `path`, or `fallback` when absent.
std::vector<std::string> string_list(const nlohmann::json* value, const std::string& path,
                                     std::vector<std::string> fallback, ProblemList& problems);

// Every (a, b) pair of the two lists, a outermost.
std::vector<std::pair<std::string, std::string>> combinations(const std::vector<std::string>& as,
                                                              const std::vector<std::string>& bs);

// A list of choice names at `path`, each checked against Enum's name table here: left to the
// candidates' scenario parser, a typo would only reject every candidate of the grid one by one.
template <typename Enum>
std::vector<std::string> choice_name_list(const nlohmann::json* value, const std::string& path,
                                          std::vector<std::string> fallback,
                                          ProblemList& problems) {
  auto names = string_list(value, path, std::move(fallback), problems);
  const std::vector<std::string> known(kChoiceNames<Enum>.begin(), kChoiceNames<Enum>.end());
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (choice_from_name<Enum>(names[i])) continue;
    const auto suggestion = did_you_mean(names[i], known);
    problems.add(
        fmt::format("{}/{}", path, i),
        fmt::format("expected {}, got \"{}\"{}", choice_list<Enum>("\""), names[i],
                    suggestion ? fmt::format(" (did you mean \"{}\"?)", *suggestion) : ""));
  }
  return names;
}

}  // namespace moesim::sim
