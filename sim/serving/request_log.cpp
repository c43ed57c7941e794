#include "sim/serving/request_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include "base/strict_json.hpp"
#include "base/text_file.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

constexpr std::size_t kMaxProblemsShown = 20;
constexpr std::string_view kFields[] = {"arrival_s", "input_tokens", "output_tokens"};
constexpr double kMaxArrival = 365.0 * 24 * 3600;  // a year of traffic

// Collects a log's problems, keeping the first kMaxProblemsShown and counting the rest.
struct LogProblems {
  ProblemList list;
  std::size_t hidden = 0;
  void add(std::size_t line, std::string_view field, std::string message) {
    if (list.problems().size() >= kMaxProblemsShown) {
      ++hidden;
      return;
    }
    list.add(field.empty() ? fmt::format("line {}", line)
                           : fmt::format("line {}, field {}", line, field),
             std::move(message));
  }
  void throw_if_any(const std::string& source) {
    if (hidden > 0) list.add("", fmt::format("and {} more problems", hidden));
    list.throw_if_any(source);
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view text) {
  std::string shown(text.substr(0, 40));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return fmt::format("\"{}\"{}", shown, text.size() > 40 ? "..." : "");
}

std::optional<double> parse_arrival(std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < 0 || value > kMaxArrival)
    return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_length(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > kMaxRequestTokens)
    return std::nullopt;
  return value;
}

std::string expected_for(std::size_t field) {
  return field == 0 ? fmt::format("expected seconds in [0, {:.0f}]", kMaxArrival)
                    : fmt::format("expected an integer in [1, {}]", kMaxRequestTokens);
}

// A cell without the double quotes a spreadsheet may put around it ("arrival_s").
std::string_view unquoted(std::string_view cell) {
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"')
    return cell.substr(1, cell.size() - 2);
  return cell;
}

// Splits one CSV line at the commas outside double quotes (RFC 4180: a text column of an export
// may hold commas; a doubled quote inside quotes toggles twice and keeps the cell whole). The
// quotes around a cell are dropped.
std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> cells;
  bool quoted_text = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] == '"') quoted_text = !quoted_text;
    if (i < line.size() && (line[i] != ',' || quoted_text)) continue;
    cells.push_back(unquoted(trim(line.substr(start, i - start))));
    start = i + 1;
  }
  return cells;
}

// Fills one request from the three cells; problems name the line and field.
void read_cells(const std::string_view cells[3], std::size_t line, Request& request,
                LogProblems& problems) {
  if (const auto arrival = parse_arrival(cells[0]))
    request.arrival_s = *arrival;
  else
    problems.add(line, kFields[0], fmt::format("{}, got {}", expected_for(0), quoted(cells[0])));
  for (std::size_t f = 1; f < 3; ++f) {
    const auto length = parse_length(cells[f]);
    if (!length)
      problems.add(line, kFields[f], fmt::format("{}, got {}", expected_for(f), quoted(cells[f])));
    else
      (f == 1 ? request.input_tokens : request.output_tokens) = *length;
  }
}

// The header's column of each field; problems when one is missing or repeated.
std::optional<std::array<std::size_t, 3>> read_header(std::string_view line, std::size_t number,
                                                      LogProblems& problems) {
  const auto names = split_csv(line);
  std::array<std::size_t, 3> columns{};
  bool complete = true;
  for (std::size_t f = 0; f < 3; ++f) {
    const auto found = std::count(names.begin(), names.end(), kFields[f]);
    if (found != 1) {
      problems.add(number, "",
                   fmt::format("expected a CSV header naming {} once, {}", kFields[f],
                               found == 0 ? "got none" : "got it twice or more"));
      complete = false;
    }
    columns[f] =
        static_cast<std::size_t>(std::find(names.begin(), names.end(), kFields[f]) - names.begin());
  }
  if (!complete) return std::nullopt;
  return columns;
}

void read_csv_line(std::string_view line, std::size_t number,
                   const std::array<std::size_t, 3>& columns, std::size_t header_width,
                   std::vector<Request>& requests, LogProblems& problems) {
  const auto cells = split_csv(line);
  if (cells.size() != header_width) {
    problems.add(number, "",
                 fmt::format("expected {} comma-separated cells as in the header, got {}",
                             header_width, cells.size()));
    return;
  }
  const std::string_view picked[3] = {cells[columns[0]], cells[columns[1]], cells[columns[2]]};
  Request request;
  read_cells(picked, number, request, problems);
  requests.push_back(request);
}

void read_json_line(std::string_view line, std::size_t number, std::vector<Request>& requests,
                    LogProblems& problems) {
  nlohmann::json object;
  try {
    object = parse_strict_json(std::string(line), "line");
  } catch (const ConfigError& error) {
    problems.add(number, "",
                 fmt::format("expected one JSON object: {}",
                             error.problems().empty() ? std::string(error.what())
                                                      : error.problems().front().message));
    return;
  }
  if (!object.is_object()) {
    problems.add(number, "", "expected a JSON object with arrival_s, input_tokens, output_tokens");
    return;
  }
  for (const auto& [key, value] : object.items())
    if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields))
      problems.add(number, key, "unknown field (expected arrival_s, input_tokens, output_tokens)");
  std::string texts[3];
  std::string_view cells[3];
  for (std::size_t f = 0; f < 3; ++f) {
    const auto it = object.find(std::string(kFields[f]));
    if (it == object.end()) {
      problems.add(number, kFields[f], "missing required field");
      return;
    }
    // Numbers only: a quoted "12" would pass from_chars but is a string in JSON.
    texts[f] = it->is_number() ? it->dump() : fmt::format("({})", it->type_name());
    cells[f] = texts[f];
  }
  Request request;
  read_cells(cells, number, request, problems);
  requests.push_back(request);
}

// The text after a UTF-8 byte-order mark (Excel's CSV export writes one).
std::string_view without_byte_order_mark(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

// The first line that is neither blank nor a "#" comment, trimmed; empty when there is none.
std::string_view first_content_line(std::string_view text) {
  for (std::size_t start = 0; start < text.size();) {
    const auto newline = text.find('\n', start);
    const auto line =
        trim(text.substr(start, newline == std::string_view::npos ? newline : newline - start));
    if (!line.empty() && line.front() != '#') return line;
    start = newline == std::string_view::npos ? text.size() : newline + 1;
  }
  return {};
}

}  // namespace

bool starts_like_request_log(std::string_view head) {
  const auto line = first_content_line(without_byte_order_mark(head));
  return line.starts_with("{") || line.find("arrival_s") != std::string_view::npos;
}

std::vector<Request> parse_request_log(const std::string& text, const std::string& source) {
  LogProblems problems;
  std::vector<Request> requests;
  const std::string_view all = without_byte_order_mark(text);
  const auto first = all.find_first_not_of(" \t\r\n");
  const bool json_lines = first != std::string_view::npos && all[first] == '{';
  std::optional<std::array<std::size_t, 3>> columns;
  std::size_t header_width = 0;
  std::size_t number = 0;
  for (std::size_t start = 0; start < all.size();) {
    const auto newline = all.find('\n', start);
    const auto line =
        trim(all.substr(start, newline == std::string_view::npos ? newline : newline - start));
    start = newline == std::string_view::npos ? all.size() : newline + 1;
    if (++number > kMaxRequestLogLines) {
      problems.add(number, "", fmt::format("expected at most {} lines", kMaxRequestLogLines));
      break;
    }
    if (line.empty() || line.front() == '#') continue;  // blank lines and comments
    if (json_lines) {
      read_json_line(line, number, requests, problems);
    } else if (header_width == 0) {
      header_width = split_csv(line).size();
      columns = read_header(line, number, problems);
      if (!columns) break;
    } else {
      read_csv_line(line, number, *columns, header_width, requests, problems);
    }
  }
  if (requests.empty() && problems.list.empty())
    problems.add(std::max<std::size_t>(number, 1), "",
                 number == 0 ? "the file is empty; expected a CSV header naming arrival_s, "
                               "input_tokens and output_tokens, then a request a line"
                             : "expected at least one request");
  problems.throw_if_any(source);
  for (std::size_t i = 0; i < requests.size(); ++i) requests[i].id = static_cast<std::int64_t>(i);
  std::stable_sort(requests.begin(), requests.end(),
                   [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  return requests;
}

std::vector<Request> load_request_log(const std::string& path) {
  return parse_request_log(read_text_file(path), path);
}

}  // namespace moesim::sim
