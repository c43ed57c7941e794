#pragma once
// Errors at the input edge: every problem found in a file, each with the JSON path (or byte offset)
// where it sits and what was expected. Shared by topology/ and sim/ (topology is the lowest layer).
#include <stdexcept>
#include <string>
#include <vector>

namespace moesim {

struct Problem {
  std::string where;    // JSON pointer ("/cluster/nodes"), or "byte 4096" for raw input
  std::string message;  // what was expected and what was found
};

// One error thrown at the boundary for a whole file; the CLI maps it to exit code 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string source, std::vector<Problem> problems);
  const std::string& source() const { return source_; }
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::string source_;
  std::vector<Problem> problems_;
};

// Collects problems while a validator walks a document, so the user sees all of them at once.
class ProblemList {
 public:
  void add(std::string where, std::string message);
  bool empty() const { return problems_.empty(); }
  const std::vector<Problem>& problems() const { return problems_; }
  void throw_if_any(const std::string& source) const;

 private:
  std::vector<Problem> problems_;
};

// "file: /path: message" lines, one per problem.
std::string format_problems(const std::string& source, const std::vector<Problem>& problems);

}  // namespace moesim
