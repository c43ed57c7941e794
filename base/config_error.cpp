#include "base/config_error.hpp"

#include <fmt/format.h>

#include "base/terminal_text.hpp"

namespace moesim {

std::string format_problems(const std::string& source, const std::vector<Problem>& problems) {
  std::string text;
  for (const auto& problem : problems) {
    if (!text.empty()) text += '\n';
    const std::string where = problem.where.empty() ? "/" : problem.where;
    // file names, paths and values come from inputs: escaped, so a message cannot drive the
    // terminal
    // an empty name reads as "error: : /: ..."; say that no file was named instead
    const std::string named = source.empty() ? "(no file named)" : source;
    text += escape_for_terminal(fmt::format("{}: {}: {}", named, where, problem.message));
  }
  return text;
}

ConfigError::ConfigError(std::string source, std::vector<Problem> problems)
    : std::runtime_error(format_problems(source, problems)),
      source_(std::move(source)),
      problems_(std::move(problems)) {}

void ProblemList::add(std::string where, std::string message) {
  problems_.push_back({std::move(where), std::move(message)});
}

void ProblemList::throw_if_any(const std::string& source) const {
  if (!problems_.empty()) throw ConfigError(source, problems_);
}

}  // namespace moesim
