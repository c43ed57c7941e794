// Keeps docs/serving.schema.json and docs/plan.schema.json in step with their parsers: every
// shipped serving file and plan is valid under both, and a misspelt field is refused by both.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "base/config_error.hpp"
#include "sim/plan/plan.hpp"
#include "sim/serving/serving_spec.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;
const std::string kRoot = MOESIM_SOURCE_DIR;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool serving_schema_accepts(const std::string& schema_file, const Json& document) {
  const Json schema_json = Json::parse(read(kRoot + "/docs/" + schema_file));
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_json);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(document);
  return validator.validate(schema, target, nullptr);
}

std::vector<std::string> files_in(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kRoot + "/" + folder))
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ServingSchema, ShippedServingFilesAreValidUnderSchemaAndParser) {
  auto files = files_in("scenarios/serving");
  const auto validation = files_in("docs/validation/serving");
  files.insert(files.end(), validation.begin(), validation.end());
  ASSERT_GE(files.size(), 4u);
  for (const auto& file : files) {
    EXPECT_TRUE(serving_schema_accepts("serving.schema.json", Json::parse(read(file)))) << file;
    EXPECT_NO_THROW(load_serving(file)) << file;
  }
}

TEST(ServingSchema, ShippedPlansAreValidUnderSchemaAndParser) {
  for (const auto& file : files_in("scenarios/plans")) {
    EXPECT_TRUE(serving_schema_accepts("plan.schema.json", Json::parse(read(file)))) << file;
    EXPECT_NO_THROW(load_plan(file)) << file;
  }
}

TEST(ServingSchema, MisspeltFieldsAreRefusedByBoth) {
  const std::string serving_file = kRoot + "/scenarios/serving/mixtral-h100-aggregated.json";
  Json serving = Json::parse(read(serving_file));
  serving["batching"]["max_batch"] = 8;
  EXPECT_FALSE(serving_schema_accepts("serving.schema.json", serving));
  EXPECT_THROW(parse_serving(serving.dump(), "bad.json"), ConfigError);

  Json plan = Json::parse(read(kRoot + "/scenarios/plans/mixtral-sla.json"));
  plan["serving"]["sla"]["ttft_ms"] = 5;
  EXPECT_FALSE(serving_schema_accepts("plan.schema.json", plan));
  EXPECT_THROW(parse_plan(plan.dump(), "bad.json"), ConfigError);
}

TEST(ServingSchema, PoolsOfTwoModelsAreRefused) {
  // Session 12: a DeepSeek-V3 prefill pool handed its KV cache to a Mixtral decode pool, exit 0.
  // tests/data/serving-two-models.json: valid pools otherwise (the hunt's reproducer).
  try {
    parse_serving(read(kRoot + "/tests/data/serving-two-models.json"), "pd.json");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "pd.json: /decode/scenario/model: expected the prefill pool's model deepseek-v3 (61 "
              "layers, hidden 7168; the decode pool continues its sequences from their KV cache), "
              "got mixtral-8x7b (32 layers, hidden 4096)");
  }
}

TEST(ServingSchema, AStrayAggregatedFieldInAPoolsFileIsNamedWhereItIs) {
  // The shipped P/D file with a top-level "instances" (the aggregated form's): the problem is at
  // /instances, the field the file holds, not at a /scenario it does not.
  Json document = Json::parse(read(kRoot + "/scenarios/serving/dsv3-pd-h200.json"));
  document["instances"] = 2;
  try {
    parse_serving(document.dump(), "pd.json", kRoot + "/scenarios/serving");
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& error) {
    ASSERT_FALSE(error.problems().empty());
    EXPECT_EQ(error.problems().front().where, "/instances");
  }
}

}  // namespace
}  // namespace moesim::sim
