#pragma once
// A serving run as text (the terminal summary), JSON (serving.json) and CSV (requests.csv).
#include <nlohmann/json.hpp>
#include <string>

#include "sim/serving/serving_run.hpp"

namespace moesim::sim {

std::string serving_text(const ServingOutcome& outcome);
nlohmann::json serving_json(const ServingOutcome& outcome);
nlohmann::json percentiles_json(const Percentiles& p);  // milliseconds
// One row a request: id, arrival, input, output, cached, queueing, TTFT, E2E (seconds).
std::string requests_csv(const ServingOutcome& outcome);

}  // namespace moesim::sim
