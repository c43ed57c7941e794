#include "sim/calibrate/timings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kFormat = "moesim-calibration";
constexpr std::int64_t kMaxRecords = kMaxCalibrationRecords;
constexpr std::int64_t kMaxRanks = kMaxGpus;
constexpr double kMaxTokens = static_cast<double>(kMaxTokensPerBlock);
// A day: far above any layer, and it keeps sums of phases finite.
constexpr double kMaxMilliseconds = 86'400'000;
// A nanosecond: below any timer's resolution, and the fit's squares of far smaller times underflow
// into NaN (1e-300 ms did).
constexpr double kMinMilliseconds = 1e-6;
// The dtype names a record may give, with their bytes per element.
constexpr std::array<std::string_view, 5> kDtypes = {"fp32", "bf16", "fp16", "fp8", "int8"};
constexpr std::array<double, 5> kDtypeBytes = {4, 2, 2, 1, 1};

constexpr std::string_view kTopFields[] = {"format", "schema_version", "device",
                                           "stack",  "provenance",     "records"};
constexpr std::string_view kRecordFields[] = {"case",           "stack",
                                              "rank",           "ranks",
                                              "shape",          "dtypes",
                                              "tokens",         "tokens_per_local_expert",
                                              "active_experts", "local_copies",
                                              "phases_ms",      "layer_ms",
                                              "spread",         "check_relative_error"};
constexpr std::string_view kShapeFields[] = {"hidden", "expert_ffn", "experts", "top_k", "gated"};
constexpr std::string_view kDtypeFields[] = {"activation", "weight"};

double dtype_bytes(FieldReader& r, std::string_view key) {
  const std::string name = r.choice(key, kDtypes, "bf16");
  const auto it = std::find(kDtypes.begin(), kDtypes.end(), name);
  return it == kDtypes.end() ? 2.0 : kDtypeBytes[static_cast<std::size_t>(it - kDtypes.begin())];
}

LayerShape read_shape(FieldReader& record, ProblemList& problems) {
  LayerShape shape;
  const Json* value = record.child("shape", true);
  if (value == nullptr) return shape;
  FieldReader r(*value, record.path_of("shape"), problems, kShapeFields);
  shape.hidden = static_cast<double>(r.integer("hidden", 1, kMaxHidden));
  shape.expert_ffn = static_cast<double>(r.integer("expert_ffn", 1, kMaxFfnWidth));
  shape.experts = static_cast<double>(r.integer("experts", 1, kMaxExperts));
  shape.top_k = static_cast<double>(r.integer("top_k", 1, kMaxTopK));
  shape.gated = r.boolean("gated", true);
  if (r.is_object() && shape.top_k > shape.experts)
    problems.add(r.path_of("top_k"), fmt::format("expected at most experts ({})", shape.experts));
  r.finish();
  if (const Json* dtypes = record.child("dtypes")) {
    FieldReader d(*dtypes, record.path_of("dtypes"), problems, kDtypeFields);
    shape.activation_bytes = dtype_bytes(d, "activation");
    shape.weight_bytes = dtype_bytes(d, "weight");
    d.finish();
  }
  return shape;
}

// Tokens per local expert: the histogram when given, else `active_experts` sharing `local_copies`
// (default: the rank's own copies, tokens x top_k) evenly.
std::vector<double> read_histogram(FieldReader& r, const LayerShape& shape, double tokens,
                                   ProblemList& problems) {
  std::vector<double> histogram;
  const bool has_histogram = r.has("tokens_per_local_expert");
  const bool has_count = r.has("active_experts");
  if (has_histogram == has_count) {
    problems.add(r.path(),
                 "expected exactly one of tokens_per_local_expert (an array) and "
                 "active_experts (a count)");
    r.child("active_experts");  // named once above, not again as an unknown field
    if (!has_histogram) return histogram;
  }
  if (has_histogram && r.has("local_copies")) {
    problems.add(r.path_of("local_copies"), "expected only with active_experts");
    r.child("local_copies");
  }
  if (has_histogram) {
    const Json& array = *r.child("tokens_per_local_expert");
    const std::string at = r.path_of("tokens_per_local_expert");
    if (!array.is_array() || array.empty() || static_cast<double>(array.size()) > shape.experts) {
      problems.add(
          at, fmt::format("expected an array of 1 to experts ({}) token counts", shape.experts));
      return histogram;
    }
    for (std::size_t i = 0; i < array.size(); ++i) {
      const Json& v = array[i];
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > kMaxTokens * kMaxTopK)
        problems.add(fmt::format("{}/{}", at, i),
                     "expected a token count >= 0, got " + describe_json_value(v));
      else
        histogram.push_back(v.get<double>());
    }
    return histogram;
  }
  const auto active = r.integer("active_experts", 0, static_cast<std::int64_t>(shape.experts));
  const double copies = r.number("local_copies", 0, kMaxTokens * kMaxTopK, tokens * shape.top_k);
  histogram.assign(static_cast<std::size_t>(active), active > 0 ? copies / active : 0.0);
  return histogram;
}

void read_phases(FieldReader& r, TimingRecord& record, ProblemList& problems) {
  const Json* phases = r.child("phases_ms", true);
  if (phases == nullptr) return;
  const std::string at = r.path_of("phases_ms");
  if (!phases->is_object() || phases->empty()) {
    problems.add(at,
                 "expected an object of phase times in ms, got " + describe_json_value(*phases));
    return;
  }
  for (const auto& [name, value] : phases->items()) {
    const std::string where = json_pointer_child(at, name);
    const auto known = std::find(kCalibratedPhaseNames.begin(), kCalibratedPhaseNames.end(), name);
    if (known == kCalibratedPhaseNames.end()) {
      problems.add(where, fmt::format("unknown phase; expected one of {}",
                                      fmt::join(kCalibratedPhaseNames, ", ")));
    } else if (!value.is_number() || !(value.get<double>() >= 0) ||
               value.get<double>() > kMaxMilliseconds ||
               (value.get<double>() > 0 && value.get<double>() < kMinMilliseconds)) {
      problems.add(
          where, fmt::format("expected 0 or a time in ms in [{:g}, {:g}], got {}", kMinMilliseconds,
                             kMaxMilliseconds, describe_json_value(value)));
    } else {
      record.phase_ms[static_cast<std::size_t>(known - kCalibratedPhaseNames.begin())] =
          value.get<double>();
    }
  }
}

TimingRecord read_record(const Json& value, const std::string& pointer, const std::string& source,
                         const std::string& stack, const std::string& device,
                         ProblemList& problems) {
  TimingRecord record;
  record.where = fmt::format("{}: {}", source, pointer);
  record.file = source;
  record.pointer = pointer;
  record.device = device;
  FieldReader r(value, pointer, problems, kRecordFields);
  if (!r.is_object()) return record;
  record.case_name = r.string("case", "");
  record.stack = stack.empty() ? r.string("stack") : r.string("stack", stack);
  record.work.ranks = static_cast<int>(r.integer("ranks", 1, kMaxRanks, 1));
  record.rank = static_cast<int>(r.integer("rank", 0, kMaxRanks - 1, 0));
  if (record.rank >= record.work.ranks)
    problems.add(r.path_of("rank"), fmt::format("expected < ranks ({})", record.work.ranks));
  record.shape = read_shape(r, problems);
  record.work.tokens = r.number("tokens", 0, kMaxTokens, std::nullopt, true);
  record.work.tokens_per_local_expert =
      read_histogram(r, record.shape, record.work.tokens, problems);
  const std::size_t earlier_problems = problems.problems().size();
  read_phases(r, record, problems);
  const bool phases_read = problems.problems().size() == earlier_problems;
  if (r.has("layer_ms")) record.layer_ms = r.number("layer_ms", kMinMilliseconds, kMaxMilliseconds);
  // errors are relative to the layer's time: a layer of no time would make them NaN
  else if (phases_read && r.has("phases_ms") && record.measured_layer_ms() == 0)
    problems.add(r.path_of("phases_ms"), "expected a phase time above 0 (or layer_ms)");
  r.optional_number("spread", 0);
  r.optional_number("check_relative_error", 0);
  r.finish();
  return record;
}

// Everything the fit reads of a record (not its spread, nor where it came from).
bool same_measurement(const TimingRecord& a, const TimingRecord& b) {
  return a.stack == b.stack && a.device == b.device && a.case_name == b.case_name &&
         a.rank == b.rank && a.work.ranks == b.work.ranks && a.work.tokens == b.work.tokens &&
         a.work.tokens_per_local_expert == b.work.tokens_per_local_expert &&
         a.shape_key() == b.shape_key() && a.phase_ms == b.phase_ms && a.layer_ms == b.layer_ms;
}

std::size_t measurement_hash(const TimingRecord& r) {
  std::size_t hash = std::hash<std::string>{}(r.shape_key());
  const auto mix = [&hash](double value) {
    hash ^= std::hash<double>{}(value) + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  };
  mix(r.work.tokens);
  for (const auto& ms : r.phase_ms) mix(ms.value_or(-1.0));
  mix(r.layer_ms.value_or(-1.0));
  return hash;
}

}  // namespace

double TimingRecord::measured_layer_ms() const {
  if (layer_ms) return *layer_ms;
  double total = 0;
  for (const auto& ms : phase_ms) total += ms.value_or(0.0);
  return total;
}

std::string TimingRecord::shape_key() const {
  return fmt::format("h{} f{} e{} k{}{} a{} w{}", shape.hidden, shape.expert_ffn, shape.experts,
                     shape.top_k, shape.gated ? " gated" : "", shape.activation_bytes,
                     shape.weight_bytes);
}

std::vector<TimingRecord> read_timings(const Json& document, const std::string& source) {
  ProblemList problems;
  FieldReader top(document, "", problems, kTopFields);
  if (!top.is_object()) problems.throw_if_any(source);
  if (top.string("format") != kFormat)
    problems.add("/format", fmt::format("expected \"{}\"", kFormat));
  top.integer("schema_version", 1, 1);
  const std::string device = top.string("device");
  const std::string stack = top.string("stack", "");
  if (const Json* provenance = top.child("provenance"); provenance && !provenance->is_object())
    problems.add("/provenance", "expected an object, got " + describe_json_value(*provenance));
  std::vector<TimingRecord> records;
  const Json* entries = top.child("records", true);
  if (entries != nullptr && (!entries->is_array() || entries->empty() ||
                             entries->size() > static_cast<std::size_t>(kMaxRecords)))
    problems.add("/records", fmt::format("expected an array of 1 to {} records", kMaxRecords));
  else if (entries != nullptr)
    for (std::size_t i = 0; i < entries->size(); ++i)
      records.push_back(read_record((*entries)[i], fmt::format("/records/{}", i), source, stack,
                                    device, problems));
  top.finish();
  problems.throw_if_any(source);
  return records;
}

void link_ranks(std::vector<TimingRecord>& records) {
  using Key = std::tuple<std::string, std::string, std::string, int, double>;
  std::map<Key, std::vector<TimingRecord*>> executions;
  for (auto& r : records) {
    r.rank_histograms.clear();
    r.slowest_experts_ms.reset();
    if (r.work.ranks > 1 && !r.case_name.empty())
      executions[{r.stack, r.case_name, r.shape_key(), r.work.ranks, r.work.tokens}].push_back(&r);
  }
  constexpr auto kExperts = static_cast<std::size_t>(CalibratedPhase::Experts);
  for (auto& [key, group] : executions) {
    std::set<int> ranks;
    for (const TimingRecord* r : group) ranks.insert(r->rank);
    if (ranks.size() != group.size() || static_cast<int>(group.size()) != std::get<3>(key))
      continue;  // not every rank once: nothing to wait for is known
    std::vector<std::vector<double>> histograms;
    std::optional<double> slowest;
    for (const TimingRecord* r : group) {
      histograms.push_back(r->work.tokens_per_local_expert);
      if (const auto& ms = r->phase_ms[kExperts]) slowest = std::max(slowest.value_or(0.0), *ms);
    }
    for (TimingRecord* r : group) {
      r->rank_histograms = histograms;
      r->slowest_experts_ms = slowest;
    }
  }
}

void refuse_duplicate_records(const std::vector<TimingRecord>& records) {
  std::unordered_multimap<std::size_t, std::size_t> seen;  // hash -> index; equal ones compared
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::size_t hash = measurement_hash(records[i]);
    const auto [first, last] = seen.equal_range(hash);
    for (auto it = first; it != last; ++it)
      if (same_measurement(records[it->second], records[i]))
        throw ConfigError(
            records[i].file,
            {{records[i].pointer,
              fmt::format("the same measurement as {} (a timings file given twice, or a copy of "
                          "it?); give each record once: a twin predicts its left-out record and "
                          "narrows the band",
                          records[it->second].where)}});
    seen.emplace(hash, i);
  }
}

std::vector<TimingRecord> load_timings(const std::string& path) {
  return read_timings(parse_strict_json(read_text_file(path), path), path);
}

}  // namespace moesim::sim
