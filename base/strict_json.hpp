#pragma once
// A JSON reader that refuses what nlohmann's default parse would accept or mangle: duplicate keys,
// numbers that overflow to infinity, nesting deep enough to exhaust a stack, trailing data.
// Syntax errors (NaN literals, invalid UTF-8) come back with their byte offset.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/text_file.hpp"  // read_text_file, for the many callers that parse a file

namespace moesim {

inline constexpr int kMaxJsonDepth = 128;
// A parsed document takes up to about 26 bytes of memory a byte of text (an array of one-digit
// numbers), so 32 MiB keeps any JSON input under 1 GB; the largest real ones (reports of
// 2,048-GPU runs, count matrices, calibration timings) are a few MB.
inline constexpr std::size_t kMaxJsonBytes = std::size_t{32} << 20;

// Throws ConfigError naming `source` and the byte offset or JSON path of every problem, and for a
// document longer than kMaxJsonBytes.
nlohmann::json parse_strict_json(std::string_view text, const std::string& source);

// JSON pointer of `key` under `parent` ("/a" + "b/c" -> "/a/b~1c").
std::string json_pointer_child(const std::string& parent, std::string_view key);

// A short description of a value for "got ..." in messages: -2, "abc", an object, an array, null.
std::string describe_json_value(const nlohmann::json& value);

}  // namespace moesim
