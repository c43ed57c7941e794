#pragma once
// Request logs: one request a line, as CSV with a header naming arrival_s, input_tokens and
// output_tokens (any order, other columns ignored), or as JSON Lines with those three fields.
// docs/serving.md shows both. Every bad line is named by file, line and field.
#include <string>
#include <string_view>
#include <vector>

#include "sim/serving/request_workload.hpp"

namespace moesim::sim {

inline constexpr std::size_t kMaxRequestLogLines = 1'000'000;

// The log's requests sorted by arrival (stable: equal arrivals keep their line order), ids in line
// order. Throws ConfigError listing every problem (at most 20, then a count) with "line N".
std::vector<Request> parse_request_log(const std::string& text, const std::string& source);
// Whether the start of a file reads as a request log to the parser: its first line that is not
// blank or a "#" comment (after a byte-order mark) is a JSON object or a header naming arrival_s.
bool starts_like_request_log(std::string_view head);
std::vector<Request> load_request_log(const std::string& path);

}  // namespace moesim::sim
