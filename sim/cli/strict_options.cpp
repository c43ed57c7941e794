#include "sim/cli/strict_options.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>

#include "base/config_error.hpp"

namespace moesim::cli {
namespace {

// Digits after at most one sign: no spaces, no hexadecimal, no exponent.
bool is_decimal_integer(std::string_view text, bool allow_minus) {
  if (!text.empty() && (text.front() == '+' || (allow_minus && text.front() == '-')))
    text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string integer_error(bool is_unsigned, const std::string& text) {
  if (!is_decimal_integer(text, !is_unsigned))
    return fmt::format("expected a {}decimal integer, got '{}'", is_unsigned ? "non-negative " : "",
                       text);
  // A leading zero is octal to CLI11 ("010" is 8): written as a person means it, it is refused.
  const std::size_t first_digit = text.front() == '+' || text.front() == '-' ? 1 : 0;
  if (text.size() > first_digit + 1 && text[first_digit] == '0')
    return fmt::format("expected a decimal integer without leading zeros, got '{}'", text);
  errno = 0;
  if (is_unsigned) {
    std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE)
      return fmt::format("expected an integer in [0, {}], got {}",
                         std::numeric_limits<unsigned long long>::max(), text);
  } else {
    std::strtoll(text.c_str(), nullptr, 10);
    if (errno == ERANGE)
      return fmt::format("expected an integer in [{}, {}], got {}",
                         std::numeric_limits<long long>::min(),
                         std::numeric_limits<long long>::max(), text);
  }
  return {};
}

// The type name CLI11 gave the option's C++ type, before any check added its description.
std::string_view base_type_name(std::string_view type_name) {
  return type_name.substr(0, type_name.find(':'));
}

void add_checks(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->get_type_size() == 0) continue;  // a flag: it takes no value
    const std::string base(base_type_name(option->get_type_name()));
    // transform() puts the check first, before CLI11's own checks and conversion see the value.
    option->transform(CLI::Validator(
        [base](std::string& text) { return strict_value_error(base, text); }, "", "strict value"));
  }
  for (CLI::App* command : app.get_subcommands({})) add_checks(*command);
}

}  // namespace

std::string strict_value_error(std::string_view type_name, const std::string& text) {
  if (text.empty()) return "expected a value, got an empty string";
  const std::string_view base = base_type_name(type_name);
  if (base == "UINT") return integer_error(/*is_unsigned=*/true, text);
  if (base == "INT") return integer_error(/*is_unsigned=*/false, text);
  return {};
}

void require_strict_option_values(CLI::App& app) { add_checks(app); }

std::optional<UnreadOption> first_given(const CLI::App& command,
                                        const std::vector<UnreadOption>& candidates) {
  for (const auto& candidate : candidates)
    if (command.count(candidate.name) > 0) return candidate;
  return std::nullopt;
}

void refuse_unread(const std::optional<UnreadOption>& unread) {
  if (unread) throw ConfigError(unread->name, {{"", unread->why}});
}

}  // namespace moesim::cli
