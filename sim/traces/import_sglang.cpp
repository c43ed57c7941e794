// SGLang's expert-distribution recorder (python/sglang/srt/eplb/expert_distribution.py): the stat
// mode's logical_count [buffered steps, layers, logical experts] and the per_pass mode's records
// of global_physical_count [layers, physical experts] with the physical-to-logical map.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/spec/limits.hpp"
#include "sim/traces/import_stacks.hpp"

namespace moesim::sim {
namespace {

// Count matrices per step. Their tokens are made up from counts, so replay takes them as a count
// matrix (counts(): summed over steps), never as recorded token order; next() still gives each
// step's blocks, for conversion to a trace that keeps the steps.
class CountStepsSource : public RoutingSource {
 public:
  CountStepsSource(std::vector<CountMatrix> steps, std::uint32_t top_k, std::string source)
      : steps_(std::move(steps)), top_k_(top_k), source_(std::move(source)) {
    check_tokens_exist();
    summed_.experts = steps_.front().experts;
    summed_.top_k = top_k_;
    summed_.tokens_per_expert = steps_.front().tokens_per_expert;
    for (std::size_t l = 0; l < summed_.tokens_per_expert.size(); ++l)
      summed_.layer_ids.push_back(static_cast<std::int64_t>(l));
    for (std::size_t s = 1; s < steps_.size(); ++s)
      for (std::size_t l = 0; l < summed_.tokens_per_expert.size(); ++l)
        for (std::size_t e = 0; e < summed_.experts; ++e) {
          auto& total = summed_.tokens_per_expert[l][e];
          if (__builtin_add_overflow(total, steps_[s].tokens_per_expert[l][e], &total))
            throw ConfigError(source_, {{fmt::format("step {} layer {} expert {}", s, l, e),
                                         "expected counts summing below 2^64 over the steps"}});
        }
  }
  TraceShape shape() const override {
    return {static_cast<std::uint32_t>(summed_.tokens_per_expert.size()), summed_.experts, top_k_,
            ScoreType::None};
  }
  bool next(TraceBlock& block) override {
    if (step_ == steps_.size()) return false;
    const auto& counts = steps_[step_];
    block = tokens_from_counts(counts, static_cast<std::uint32_t>(layer_), top_k_,
                               fmt::format("{} (step {})", source_, step_));
    block.step = static_cast<std::uint32_t>(step_);
    block.layer = static_cast<std::uint32_t>(layer_);
    if (++layer_ == counts.tokens_per_expert.size()) layer_ = 0, ++step_;
    return true;
  }
  void rewind() override { step_ = layer_ = 0; }
  const CountMatrix* counts() const override { return &summed_; }

 private:
  // What tokens_from_counts() would refuse, refused at once: replay reads counts() only.
  void check_tokens_exist() const {
    if (top_k_ == 0)
      throw ConfigError(source_, {{"/top_k",
                                   "expected top_k to turn counts into tokens (the file "
                                   "does not give it; pass --top-k)"}});
    for (std::size_t s = 0; s < steps_.size(); ++s)
      for (std::size_t l = 0; l < steps_[s].tokens_per_expert.size(); ++l) {
        const auto& row = steps_[s].tokens_per_expert[l];
        std::uint64_t total = 0;
        for (const auto count : row)
          if (__builtin_add_overflow(total, count, &total))
            throw ConfigError(source_, {{fmt::format("step {} layer {}", s, l),
                                         "expected counts summing below 2^64"}});
        const auto largest = *std::max_element(row.begin(), row.end());
        if (total % top_k_ != 0 || largest > total / top_k_)
          throw ConfigError(source_,
                            {{fmt::format("step {} layer {}", s, l),
                              fmt::format("expected counts that tokens choosing top_k {} distinct "
                                          "experts can make (a sum divisible by {}, no count above "
                                          "sum / top_k), got sum {} and a count of {}",
                                          top_k_, top_k_, total, largest)}});
      }
  }

  std::vector<CountMatrix> steps_;
  CountMatrix summed_;
  std::uint32_t top_k_;
  std::string source_;
  std::size_t step_ = 0;
  std::size_t layer_ = 0;
};

std::string pickle_source(const TorchArchive& archive) {
  return fmt::format("{} (entry {})", archive.source, archive.pickle_entry);
}

// Count cells (steps x layers x experts) one record may expand to: 128 MiB of counts.
constexpr std::uint64_t kMaxCountCells = std::uint64_t{1} << 24;

void check_count_shape(const TorchArchive& archive, const PickleValue& value, std::uint64_t layers,
                       std::uint64_t experts, const char* what) {
  if (layers == 0 || layers > static_cast<std::uint64_t>(kMaxLayers) || experts == 0 ||
      experts > static_cast<std::uint64_t>(kMaxExpertSlots) ||
      layers * experts > static_cast<std::uint64_t>(kMaxLayerExpertCells))
    throw TraceError(
        pickle_source(archive), value.offset,
        fmt::format("{}: expected 1 to {} layers, 1 to {} experts and at most {} "
                    "cells (docs/limits.md), got {} x {}",
                    what, kMaxLayers, kMaxExpertSlots, kMaxLayerExpertCells, layers, experts));
}

void check_total_cells(const TorchArchive& archive, const PickleValue& value, std::size_t steps,
                       std::size_t cells_per_step) {
  if (steps * cells_per_step > kMaxCountCells)
    throw TraceError(pickle_source(archive), value.offset,
                     fmt::format("expected at most {} step x layer x expert counts, got {} steps "
                                 "of {}",
                                 kMaxCountCells, steps, cells_per_step));
}

CountMatrix step_matrix(const IntegerTensor& counts, std::size_t step, const std::string& where) {
  const std::size_t layers = static_cast<std::size_t>(counts.shape[1]);
  const std::size_t experts = static_cast<std::size_t>(counts.shape[2]);
  CountMatrix matrix;
  matrix.experts = static_cast<std::uint32_t>(experts);
  for (std::size_t l = 0; l < layers; ++l) {
    auto& row = matrix.tokens_per_expert.emplace_back();
    for (std::size_t e = 0; e < experts; ++e) {
      const auto value = counts.at(step, l, e);
      if (value < 0)
        throw ConfigError(where, {{fmt::format("step {} layer {} expert {}", step, l, e),
                                   fmt::format("expected a count >= 0, got {}", value)}});
      row.push_back(static_cast<std::uint64_t>(value));
    }
    matrix.layer_ids.push_back(static_cast<std::int64_t>(l));
  }
  return matrix;
}

bool all_zero(const CountMatrix& matrix) {
  return std::all_of(matrix.tokens_per_expert.begin(), matrix.tokens_per_expert.end(),
                     [](const auto& row) {
                       return std::all_of(row.begin(), row.end(), [](auto c) { return c == 0; });
                     });
}

// Stat mode. A circular buffer's unused rows are all zero: they are no step and are left out.
std::unique_ptr<RoutingSource> open_stat(const TorchArchive& archive, const PickleValue& value,
                                         const ImportOptions& options) {
  IntegerTensor counts = integer_tensor(archive, value, "logical_count");
  if (counts.shape.size() == 2) counts.shape.insert(counts.shape.begin(), 1);
  if (counts.shape.size() != 3)
    throw TraceError(pickle_source(archive), value.offset,
                     fmt::format("logical_count: expected [steps, layers, experts], got {} "
                                 "dimensions",
                                 counts.shape.size()));
  check_count_shape(archive, value, static_cast<std::uint64_t>(counts.shape[1]),
                    static_cast<std::uint64_t>(counts.shape[2]), "logical_count");
  std::vector<CountMatrix> steps;
  check_total_cells(archive, value, static_cast<std::size_t>(counts.shape[0]),
                    static_cast<std::size_t>(counts.shape[1] * counts.shape[2]));
  for (std::size_t s = 0; s < static_cast<std::size_t>(counts.shape[0]); ++s)
    if (auto matrix = step_matrix(counts, s, archive.source); !all_zero(matrix))
      steps.push_back(std::move(matrix));
  if (steps.empty())
    throw TraceError(pickle_source(archive), value.offset,
                     "logical_count: expected at least one step with tokens, got only zeros");
  return make_count_steps_source(std::move(steps), options.top_k, archive.source);
}

// The per_pass dump's last_physical_to_logical_map [layers, physical slots], checked.
struct PassMap {
  IntegerTensor map;
  std::int64_t logical = 0;
};

PassMap read_pass_map(const TorchArchive& archive, const PickleValue& records) {
  const auto& document = archive.document;
  const auto* map_value = document.find(document.root_value(), "last_physical_to_logical_map");
  if (map_value == nullptr)
    throw TraceError(pickle_source(archive), records.offset,
                     "expected last_physical_to_logical_map beside records (per_pass mode)");
  PassMap out{integer_tensor(archive, *map_value, "last_physical_to_logical_map")};
  if (out.map.shape.size() != 2)
    throw TraceError(pickle_source(archive), map_value->offset,
                     "last_physical_to_logical_map: expected [layers, physical experts]");
  check_count_shape(archive, *map_value, static_cast<std::uint64_t>(out.map.shape[0]),
                    static_cast<std::uint64_t>(out.map.shape[1]), "last_physical_to_logical_map");
  out.logical = *std::max_element(out.map.values.begin(), out.map.values.end()) + 1;
  if (*std::min_element(out.map.values.begin(), out.map.values.end()) < 0 ||
      out.logical > kMaxExperts)
    throw TraceError(pickle_source(archive), map_value->offset,
                     fmt::format("last_physical_to_logical_map: expected logical expert ids in "
                                 "[0, {})",
                                 kMaxExperts));
  return out;
}

// Adds record r's physical counts, as logical counts, to its forward pass.
void add_pass_record(const TorchArchive& archive, std::size_t r, const PassMap& pass_map,
                     std::map<std::int64_t, CountMatrix>& passes) {
  const auto& document = archive.document;
  const auto& record = document[document.find(document.root_value(), "records")->items[r]];
  const auto* id = document.find(record, "forward_pass_id");
  const auto* counts_value = document.find(record, "global_physical_count");
  if (id == nullptr || id->kind != PickleKind::Int || counts_value == nullptr)
    throw TraceError(pickle_source(archive), record.offset,
                     fmt::format("records[{}]: expected a dict with forward_pass_id and "
                                 "global_physical_count (per_token mode is not read)",
                                 r));
  const auto& map = pass_map.map;
  const auto counts =
      integer_tensor(archive, *counts_value, fmt::format("records[{}].global_physical_count", r));
  const auto where = [&](std::string message) {
    return TraceError(pickle_source(archive), counts_value->offset,
                      fmt::format("records[{}].global_physical_count: {}", r, message));
  };
  if (counts.shape != map.shape)
    throw where(fmt::format("expected [{}, {}] like the map", map.shape[0], map.shape[1]));
  auto& pass = passes[id->integer];
  const auto layers = static_cast<std::size_t>(map.shape[0]);
  if (pass.tokens_per_expert.empty()) {
    check_total_cells(archive, record, passes.size(),
                      layers * static_cast<std::size_t>(pass_map.logical));
    pass.experts = static_cast<std::uint32_t>(pass_map.logical);
    pass.tokens_per_expert.assign(layers, std::vector<std::uint64_t>(pass.experts, 0));
  }
  for (std::size_t l = 0; l < layers; ++l)
    for (std::size_t p = 0; p < static_cast<std::size_t>(map.shape[1]); ++p) {
      const auto count = counts.at(l, p);
      if (count < 0)
        throw where(fmt::format("layer {} slot {}: expected a count >= 0, got {}", l, p, count));
      auto& total = pass.tokens_per_expert[l][static_cast<std::size_t>(map.at(l, p))];
      if (__builtin_add_overflow(total, static_cast<std::uint64_t>(count), &total))
        throw where(fmt::format("layer {}: expected counts summing below 2^64", l));
    }
}

// Per-pass mode: each record's physical counts become logical through the map; records of one
// forward pass (several ranks' files concatenated) are summed; passes in id order.
std::unique_ptr<RoutingSource> open_per_pass(const TorchArchive& archive,
                                             const PickleValue& records,
                                             const ImportOptions& options) {
  const PassMap map = read_pass_map(archive, records);
  std::map<std::int64_t, CountMatrix> passes;
  for (std::size_t r = 0; r < records.items.size(); ++r) add_pass_record(archive, r, map, passes);
  if (passes.empty())
    throw TraceError(pickle_source(archive), records.offset, "records: expected at least one");
  std::vector<CountMatrix> steps;
  for (auto& [id, pass] : passes) steps.push_back(std::move(pass));
  return make_count_steps_source(std::move(steps), options.top_k, archive.source);
}

}  // namespace

std::unique_ptr<RoutingSource> make_count_steps_source(std::vector<CountMatrix> steps,
                                                       std::uint32_t top_k, std::string source) {
  return std::make_unique<CountStepsSource>(std::move(steps), top_k, std::move(source));
}

std::unique_ptr<RoutingSource> open_sglang_record(const TorchArchive& archive,
                                                  const ImportOptions& options) {
  const auto& document = archive.document;
  const auto& root = document.root_value();
  if (const auto* counts = document.find(root, "logical_count")) {
    return open_stat(archive, *counts, options);
  }
  const auto* records = document.find(root, "records");
  if (records != nullptr && records->kind == PickleKind::List)
    return open_per_pass(archive, *records, options);
  throw TraceError(pickle_source(archive), root.offset,
                   fmt::format("expected SGLang's expert-distribution record (a dict with "
                               "logical_count or records), got {}",
                               pickle_kind_name(root.kind)));
}

}  // namespace moesim::sim
