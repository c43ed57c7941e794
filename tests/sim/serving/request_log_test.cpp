#include "sim/serving/request_log.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

std::vector<Problem> log_problems_of(const std::string& text) {
  try {
    parse_request_log(text, "log.csv");
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), "log.csv");
    return error.problems();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return {};
}

TEST(RequestLog, CsvColumnsAreFoundByTheHeaderAndSortedByArrival) {
  const auto requests = parse_request_log(
      "# a comment\noutput_tokens,arrival_s,input_tokens,user\n20,1.5,100,a\n30,0.5,200,b\n",
      "log.csv");
  ASSERT_EQ(requests.size(), 2u);
  // Sorted by arrival: the second line (0.5 s) first; ids keep line order.
  EXPECT_EQ(requests[0].id, 1);
  EXPECT_DOUBLE_EQ(requests[0].arrival_s, 0.5);
  EXPECT_EQ(requests[0].input_tokens, 200);
  EXPECT_EQ(requests[0].output_tokens, 30);
}

TEST(RequestLog, JsonLinesAreRead) {
  const auto requests = parse_request_log(
      "{\"arrival_s\": 0.25, \"input_tokens\": 512, \"output_tokens\": 64}\n\n"
      "{\"arrival_s\": 1, \"input_tokens\": 8, \"output_tokens\": 1}\n",
      "log.jsonl");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].input_tokens, 8);
}

TEST(RequestLog, EveryBadCellIsNamedByLineAndField) {
  const auto problems =
      log_problems_of("arrival_s,input_tokens,output_tokens\n0.1,100,10\n-1,abc,10\n0.2,5\n");
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].where, "line 3, field arrival_s");
  EXPECT_EQ(problems[1].where, "line 3, field input_tokens");
  EXPECT_NE(problems[1].message.find("\"abc\""), std::string::npos);
  EXPECT_EQ(problems[2].where, "line 4");
}

TEST(RequestLog, ASpreadsheetsByteOrderMarkAndQuotesAreRead) {
  // Excel's CSV export: a UTF-8 byte-order mark, then every cell in double quotes.
  const auto requests = parse_request_log(
      "\xEF\xBB\xBF\"arrival_s\",\"input_tokens\",\"output_tokens\"\r\n\"0.5\",\"100\",\"10\"\r\n",
      "log.csv");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_DOUBLE_EQ(requests[0].arrival_s, 0.5);
  EXPECT_EQ(requests[0].input_tokens, 100);
}

TEST(RequestLog, AQuotedTextColumnMayHoldCommas) {
  // Four columns: the note's comma and its doubled quote are inside quotes, so each row has 4.
  const auto requests = parse_request_log(
      "arrival_s,input_tokens,output_tokens,note\n0,100,10,\"hello, \"\"world\"\"\"\n", "log.csv");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].output_tokens, 10);
}

TEST(RequestLog, ItsStartIsToldFromARoutingTracesByTheParsersRules) {
  // After a byte-order mark, a comment and a blank CRLF line, the header names arrival_s; JSON
  // Lines start with an object; a routing trace's CSV header does not name arrival_s.
  EXPECT_TRUE(starts_like_request_log("\xEF\xBB\xBF# gateway\r\n\r\narrival_s,input_tokens\r\n"));
  EXPECT_TRUE(starts_like_request_log("{\"arrival_s\": 0}\n"));
  EXPECT_FALSE(starts_like_request_log("step,layer,token,expert_0\n0,0,0,1\n"));
  EXPECT_FALSE(starts_like_request_log("# only a comment\n"));
}

TEST(RequestLog, AHeaderAfterCommentsIsNamedAtItsOwnLine) {
  const auto problems = log_problems_of("# exported 2026-12-02\n# by hand\narrival,x\n0,1\n");
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].where, "line 3");
}

TEST(RequestLog, MissingHeaderColumnIsNamed) {
  const auto problems = log_problems_of("arrival,input_tokens,output_tokens\n0,1,1\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("arrival_s"), std::string::npos);
}

TEST(RequestLog, JsonLineProblemsNameTheField) {
  const auto problems = log_problems_of(
      "{\"arrival_s\": 0, \"input_tokens\": \"12\", \"output_tokens\": 3}\n"
      "{\"arrival_s\": 0, \"output_tokens\": 3}\n{\"arrival_s\": 0, \"input_tokens\": 1, "
      "\"output_tokens\": 1, \"extra\": 1}\n{oops\n");
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0].where, "line 1, field input_tokens");
  EXPECT_EQ(problems[1].where, "line 2, field input_tokens");
  EXPECT_EQ(problems[2].where, "line 3, field extra");
  EXPECT_EQ(problems[3].where, "line 4");
}

TEST(RequestLog, AnEmptyLogIsRefused) {
  const auto problems = log_problems_of("");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].where, "line 1");
  EXPECT_NE(problems[0].message.find("the file is empty"), std::string::npos);
}

TEST(RequestLog, ProblemsStopAtTwentyAndAreCounted) {
  std::string text = "arrival_s,input_tokens,output_tokens\n";
  for (int i = 0; i < 25; ++i) text += "x,1,1\n";
  const auto problems = log_problems_of(text);
  // 20 shown, then one line saying 5 more.
  ASSERT_EQ(problems.size(), 21u);
  EXPECT_NE(problems.back().message.find("5 more"), std::string::npos);
}

}  // namespace
}  // namespace moesim::sim
