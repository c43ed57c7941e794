#pragma once
// CLI11 reads an empty value as 0, "-1" into an unsigned option as 2^64 - 1, "010" as octal 8 and
// clamps 2^64 to 2^64 - 1, all without a word. These checks refuse such values before CLI11
// converts them, on every option of every command, so no option is silently changed.
#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::cli {

// Why `text` cannot be the value of an option whose CLI11 type is `type_name` ("INT", "UINT",
// "FLOAT", "TEXT", with or without a ":..." suffix); empty when it can.
std::string strict_value_error(std::string_view type_name, const std::string& text);

// Puts the check in front of every value-taking option of `app` and of its subcommands, deepest
// included. Call it once every command has been added.
void require_strict_option_values(CLI::App& app);

// An option the chosen mode of a command does not read, and why: given, it would change nothing,
// so it is refused rather than ignored.
struct UnreadOption {
  std::string name;  // as on the command line: "--table"
  std::string why;   // "is only written by calibrate --check or --cross-check"
};

// The first of `candidates` given on `command`'s line, or nullopt. Known only once the line is
// parsed (a callback), it is thrown by the command's action (refuse_unread), not during parsing.
std::optional<UnreadOption> first_given(const CLI::App& command,
                                        const std::vector<UnreadOption>& candidates);

// Throws ConfigError(name, why) when there is an unread option (exit 2).
void refuse_unread(const std::optional<UnreadOption>& unread);

}  // namespace moesim::cli
