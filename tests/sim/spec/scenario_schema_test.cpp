// Keeps docs/scenario.schema.json in step with the parser: the same fields per section, the
// built-in scenarios valid under both, and malformed files rejected by both.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

Json read_json(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return Json::parse(text.str());
}

const Json& schema_document() {
  static const Json kSchema =
      read_json(std::string(MOESIM_SOURCE_DIR) + "/docs/scenario.schema.json");
  return kSchema;
}

// The object schema of a section: where a section also accepts a preset name, the object is the
// second oneOf branch.
const Json& section_schema(std::string_view section) {
  const Json* node = &schema_document();
  std::string path(section);
  std::size_t start = 1;
  while (start <= path.size() && !path.empty()) {
    const auto end = path.find('/', start);
    const std::string key =
        path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    node = &(*node)["properties"][key];
    if (node->contains("oneOf")) node = &(*node)["oneOf"][1];
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return *node;
}

bool schema_accepts(const Json& document) {
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_document());
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::adapters::NlohmannJsonAdapter target(document);
  return validator.validate(schema, target, nullptr);
}

TEST(ScenarioSchema, EverySectionListsTheParsersFields) {
  for (const auto& section : scenario_fields()) {
    SCOPED_TRACE(std::string(section.section));
    std::set<std::string> parser_fields(section.fields.begin(), section.fields.end());
    std::set<std::string> schema_fields;
    for (const auto& [key, value] : section_schema(section.section)["properties"].items())
      schema_fields.insert(key);
    EXPECT_EQ(parser_fields, schema_fields);
    EXPECT_EQ(section_schema(section.section).value("additionalProperties", true), false);
  }
}

TEST(ScenarioSchema, BuiltinScenariosAreValidUnderTheSchema) {
  for (const auto& builtin : builtin_scenarios()) {
    SCOPED_TRACE(std::string(builtin.name));
    EXPECT_TRUE(schema_accepts(Json::parse(builtin.json)));
  }
}

TEST(ScenarioSchema, MalformedFilesAreRejectedByTheSchemaToo) {
  for (const char* file :
       {"nodes-negative.json", "unknown-field.json", "bad-overlap.json", "bad-date.json",
        "wrong-schema-version.json", "missing-model.json", "many-problems.json",
        "not-an-object.json", "inline-model-missing-fields.json"}) {
    SCOPED_TRACE(file);
    EXPECT_FALSE(schema_accepts(
        read_json(std::string(MOESIM_SOURCE_DIR) + "/tests/data/scenarios/bad/" + file)));
  }
}

}  // namespace
}  // namespace moesim::sim
