#include "base/strict_json.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"

namespace moesim {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse_strict_json(text, "f.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(StrictJson, AcceptsOrdinaryDocuments) {
  const auto value =
      parse_strict_json(R"({"a": [1, 2.5, "x", null, true], "b": {"c": -3}})", "f.json");
  EXPECT_EQ(value["a"][1], 2.5);
  EXPECT_EQ(value["b"]["c"], -3);
}

TEST(StrictJson, ADocumentPastThirtyTwoMebibytesIsRefusedBeforeParsing) {
  // Session 12: an 80 MB array of zeros took 2 GB, a 200 MB one ended in std::bad_alloc.
  std::string text(kMaxJsonBytes, ' ');
  text.front() = '0';
  EXPECT_EQ(parse_strict_json(text, "f.json"), 0);  // exactly the limit: parsed
  text += ' ';
  EXPECT_EQ(error_of(text),
            "f.json: /: a JSON document of 33554433 bytes; expected at most 33554432 (32 MiB)");
}

TEST(StrictJson, DuplicateKeyNamesItsPath) {
  EXPECT_EQ(error_of(R"({"a": {"b": 1, "b": 2}})"),
            "f.json: /a/b: duplicate key (each field may appear once)");
}

TEST(StrictJson, NanLiteralIsASyntaxErrorAtItsByte) {
  // {"a": N -- the N is byte 6 (0-based).
  EXPECT_EQ(error_of(R"({"a": NaN})").rfind("f.json: byte 6: invalid JSON", 0), 0u);
}

TEST(StrictJson, OverflowingNumberIsRejected) {
  EXPECT_NE(error_of(R"({"a": 1e999})").find("number overflow"), std::string::npos);
}

TEST(StrictJson, TrailingDataIsRejected) {
  EXPECT_NE(error_of(R"({} {})").find("expected end of input"), std::string::npos);
}

TEST(StrictJson, InvalidUtf8IsRejected) {
  EXPECT_NE(error_of("{\"a\": \"caf\xe9\"}").find("ill-formed UTF-8"), std::string::npos);
}

TEST(StrictJson, DeepNestingStopsAtTheLimitWithoutCrashing) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_NE(error_of(deep).find("nesting deeper than 128 levels"), std::string::npos);
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(error_of(ok), "");
}

TEST(StrictJson, PointerEscapesSlashAndTilde) {
  EXPECT_EQ(json_pointer_child("/a", "b/c~d"), "/a/b~1c~0d");
}

}  // namespace
}  // namespace moesim
