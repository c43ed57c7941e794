#pragma once
// Structure-aware fuzzing helpers: the fuzzer's bytes choose which known field gets which value,
// from the values that broke parsers before (2^32 narrowing to 0, 2^63 past int64, 1e308, wrong
// types), so a target reaches the checks behind well-formed JSON instead of stopping at a syntax
// error. An input that starts with '{' is taken as JSON text instead: real files seed the corpus.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace moesim::fuzz {

// One JSON value, often an integer at a boundary of a type or a limit, sometimes another type.
inline nlohmann::json interesting_value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 14)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return -1;
    case 3:
      return std::int64_t{1} << 31;  // int overflow
    case 4:
      return std::int64_t{1} << 32;  // narrows to 0 in an int
    case 5:
      return (std::int64_t{1} << 32) + 8;  // narrows to 8
    case 6:
      return std::numeric_limits<std::int64_t>::max();
    case 7:
      return std::numeric_limits<std::uint64_t>::max();  // past int64: stays unsigned
    case 8:
      return 1e308;
    case 9:
      return in.ConsumeFloatingPoint<double>();
    case 10:
      return in.ConsumeRandomLengthString(16);
    case 11:
      return nullptr;
    case 12:
      return nlohmann::json::array({in.ConsumeIntegralInRange<int>(-2, 4096)});
    case 13:
      return in.ConsumeIntegralInRange<std::int64_t>(-8, 70000);
    default:
      return in.ConsumeIntegral<std::int64_t>();
  }
}

// An object holding some of `fields`, each with an interesting value, plus maybe an unknown one.
inline nlohmann::json object_of(FuzzedDataProvider& in, std::initializer_list<const char*> fields) {
  nlohmann::json object = nlohmann::json::object();
  for (const char* field : fields)
    if (in.ConsumeBool()) object[field] = interesting_value(in);
  if (in.ConsumeIntegralInRange(0, 7) == 0) object[in.ConsumeRandomLengthString(8)] = 1;
  return object;
}

// JSON text of `value`; fuzzed strings may be invalid UTF-8, which a real file could not hold
// (the strict parser refuses it), so such bytes are replaced rather than thrown on.
inline std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Whether the input is JSON text (a real file from the corpus) rather than bytes to structure.
inline bool looks_like_json(const std::uint8_t* data, std::size_t size) {
  return size > 0 && data[0] == '{';
}

}  // namespace moesim::fuzz
