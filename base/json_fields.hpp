#pragma once
// Reads one JSON object field by field into typed values, recording every problem with its path
// and what was expected (CLI11's validators are the model). Unknown fields are reported by finish()
// with a did-you-mean suggestion.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "base/config_error.hpp"

namespace moesim {

class FieldReader {
 public:
  // Records "expected an object" when `object` is not one; every getter then returns its fallback.
  // `declared`, when given, is the section's documented field list: asking for a key outside it is
  // a programming error (std::logic_error), which keeps the list, the parser and the schema in
  // step.
  FieldReader(const nlohmann::json& object, std::string path, ProblemList& problems,
              std::span<const std::string_view> declared = {});

  bool is_object() const { return object_ != nullptr; }
  bool has(std::string_view key) const;
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;
  ProblemList& problems() { return problems_; }

  // Each getter marks the key as known. A missing key with no fallback is a problem.
  std::int64_t integer(std::string_view key, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max(),
                       std::optional<std::int64_t> fallback = std::nullopt);
  double number(std::string_view key, double min, double max = std::numeric_limits<double>::max(),
                std::optional<double> fallback = std::nullopt, bool min_exclusive = false);
  std::optional<double> optional_number(std::string_view key, double min,
                                        double max = std::numeric_limits<double>::max(),
                                        bool min_exclusive = false);
  bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt);
  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt);
  std::string choice(std::string_view key, std::span<const std::string_view> choices,
                     std::optional<std::string> fallback = std::nullopt);
  // The raw child for nested readers; nullptr when absent (a problem if `required`).
  const nlohmann::json* child(std::string_view key, bool required = false);

  // Reports every key no getter asked for: "unknown field; did you mean 'experts'?"
  void finish();

 private:
  const nlohmann::json* lookup(std::string_view key, bool required, const std::string& expected);

  const nlohmann::json* object_ = nullptr;
  std::string path_;
  ProblemList& problems_;
  std::span<const std::string_view> declared_;
  std::set<std::string, std::less<>> known_;
};

// The closest of `candidates` to `word` by edit distance, if close enough to be a likely typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const std::string> candidates);

// "expected an integer >= 1" / "expected a number in [0, 1]" / "expected a number > 0".
std::string describe_range(std::string_view kind, double min, double max, bool min_exclusive);

// The finite number > 0 at JSON pointer `pointer` under `root`; nullopt after adding the problem
// ("missing required field" or "expected a number > 0, got ...") under that pointer. For documents
// read by pointer (profiles) rather than section by section.
// A value above `max` (a bound on what a measurement can be) is refused the same way:
// "expected a number in (0, 1e+09], got 1e+308".
std::optional<double> positive_number_at(const nlohmann::json& root, const std::string& pointer,
                                         ProblemList& problems,
                                         double max = std::numeric_limits<double>::max());

}  // namespace moesim
