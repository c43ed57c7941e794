// The /network fields that follow from the all-to-all kernels a scenario names.
#include <fmt/format.h>

#include "base/config_error.hpp"
#include "sim/spec/scenario_sections.hpp"

namespace moesim::sim::scenario_sections {
namespace {

std::string shown(bool value) { return value ? "true" : "false"; }
std::string shown(DispatchKind value) { return fmt::format("\"{}\"", choice_name(value)); }

// `key` as the kernels need it: set when absent, a problem when given otherwise.
template <typename Value>
void require(const Json& network, FieldReader& reader, std::string_view key, Value& field,
             Value needed, std::string_view needed_name, std::string_view kernels,
             ProblemList& problems) {
  if (network.contains(std::string(key)) && field != needed) {
    problems.add(reader.path_of(key),
                 fmt::format("expected {} with all_to_all \"{}\" (or leave it out), got {}",
                             needed_name, kernels, shown(field)));
    return;
  }
  field = needed;
}

}  // namespace

void apply_all_to_all_kind(const Json& network, FieldReader& reader, NetworkSpec& spec,
                           ProblemList& problems) {
  if (spec.all_to_all == AllToAllKind::Nccl) return;
  const std::string_view kernels = choice_name(spec.all_to_all);
  // Normal kernels: a token crosses the fabric once per node to the same-rail GPU, which forwards
  // it over NVLink once per GPU. Low-latency kernels: one RDMA message per (token, expert) copy.
  const bool normal = spec.all_to_all == AllToAllKind::DeepEpNormal;
  require(network, reader, "dispatch", spec.dispatch,
          normal ? DispatchKind::Hierarchical : DispatchKind::Direct,
          normal ? "\"hierarchical\"" : "\"direct\"", kernels, problems);
  require(network, reader, "dedup", spec.dedup, normal, normal ? "true" : "false", kernels,
          problems);
  // DeepEP is priced by its own latency + bytes / bandwidth model, not played as flows.
  if (spec.model == NetworkModelKind::Flow)
    problems.add(reader.path_of("model"),
                 fmt::format("expected \"analytic\" or \"auto\" with all_to_all \"{}\" (its "
                             "kernels are priced analytically), got \"flow\"",
                             kernels));
  spec.model = NetworkModelKind::Analytic;
}

}  // namespace moesim::sim::scenario_sections
