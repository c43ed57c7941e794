#include "sim/traces/import.hpp"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/strict_json.hpp"
#include "base/text_file.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import_stacks.hpp"
#include "sim/traces/reader.hpp"

namespace moesim::sim {
namespace {

class ReaderSource : public RoutingSource {
 public:
  explicit ReaderSource(const std::string& path) : reader_(path) {}
  explicit ReaderSource(TraceReader reader) : reader_(std::move(reader)) {}
  TraceShape shape() const override { return reader_.shape(); }
  bool next(TraceBlock& block) override { return reader_.next(block); }
  void rewind() override {
    if (reader_.steps() > 0) reader_.seek_step(0);
  }

 private:
  TraceReader reader_;
};

class BlockSource : public RoutingSource {
 public:
  BlockSource(TraceShape shape, std::vector<TraceBlock> blocks)
      : shape_(shape), blocks_(std::move(blocks)) {}
  TraceShape shape() const override { return shape_; }
  bool next(TraceBlock& block) override {
    if (next_ == blocks_.size()) return false;
    block = blocks_[next_++];  // copied: a rewound pass reads the blocks again
    return true;
  }
  void rewind() override { next_ = 0; }

 private:
  TraceShape shape_;
  std::vector<TraceBlock> blocks_;
  std::size_t next_ = 0;
};

class CountSource : public RoutingSource {
 public:
  CountSource(CountMatrix counts, std::uint32_t top_k, std::string source)
      : counts_(std::move(counts)), top_k_(top_k), source_(std::move(source)) {
    // a sum that wraps would report 0 tokens for a layer full of them
    for (std::size_t row = 0; row < counts_.tokens_per_expert.size(); ++row) {
      std::uint64_t total = 0;
      for (const auto count : counts_.tokens_per_expert[row])
        if (__builtin_add_overflow(total, count, &total))
          throw ConfigError(source_, {{fmt::format("/tokens_per_expert/{}", row),
                                       "expected a row sum below 2^64, got an overflow"}});
    }
  }
  TraceShape shape() const override {
    return {static_cast<std::uint32_t>(counts_.tokens_per_expert.size()), counts_.experts, top_k_,
            ScoreType::None};
  }
  bool next(TraceBlock& block) override {
    if (row_ == counts_.tokens_per_expert.size()) return false;
    block = tokens_from_counts(counts_, static_cast<std::uint32_t>(row_++), top_k_, source_);
    return true;
  }
  const CountMatrix* counts() const override { return &counts_; }
  void rewind() override { row_ = 0; }

 private:
  CountMatrix counts_;
  std::uint32_t top_k_;
  std::string source_;
  std::size_t row_ = 0;
};

std::string read_prefix(const std::string& path, std::size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path, {{"/", "cannot open the file"}});
  note_input_file(path);
  std::string prefix(bytes, '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(bytes));
  prefix.resize(static_cast<std::size_t>(in.gcount()));
  return prefix;
}

// What an .npy file's first bytes say about it, when they are not the NumPy magic.
std::string corrupt_npy_message(const std::string& prefix) {
  if (prefix.empty()) return "the file is empty; expected an .npy array (magic \\x93NUMPY)";
  std::string shown;
  for (const unsigned char c : prefix)
    shown +=
        c >= 0x20 && c < 0x7f ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  return fmt::format(
      "not an .npy array, or a corrupt one: expected the magic \\x93NUMPY in the first 6 bytes, "
      "got '{}' (write it with numpy.save)",
      shown);
}

}  // namespace

TraceBlock tokens_from_counts(const CountMatrix& counts, std::uint32_t row, std::uint32_t top_k,
                              const std::string& source) {
  const std::string where = fmt::format("/tokens_per_expert/{}", row);
  if (top_k == 0)
    throw ConfigError(source,
                      {{"/top_k",
                        "expected top_k to turn counts into tokens (the file does not give it; "
                        "pass --top-k)"}});
  const auto& per_expert = counts.tokens_per_expert[row];
  std::uint64_t total = 0;
  for (auto count : per_expert)
    if (__builtin_add_overflow(total, count, &total))
      throw ConfigError(source,
                        {{where, fmt::format("expected a row sum below 2^64, got an overflow")}});
  if (total % top_k != 0)
    throw ConfigError(
        source, {{where, fmt::format("expected a row sum that is a multiple of top_k {}, got {}",
                                     top_k, total)}});
  const std::uint64_t tokens = total / top_k;
  if (tokens > static_cast<std::uint64_t>(kMaxTokensPerBlock) ||
      total > static_cast<std::uint64_t>(kMaxChoicesPerBlock))
    throw ConfigError(
        source,
        {{where,
          fmt::format("expected at most {} tokens and {} choices per layer (docs/limits.md), "
                      "got {} tokens x top_k {}",
                      kMaxTokensPerBlock, kMaxChoicesPerBlock, tokens, top_k)}});
  for (std::size_t e = 0; e < per_expert.size(); ++e)
    if (per_expert[e] > tokens)
      throw ConfigError(
          source,
          {{fmt::format("{}/{}", where, e),
            fmt::format("expected at most {} (the row's tokens: a token picks an expert once), "
                        "got {}",
                        tokens, per_expert[e])}});
  TraceBlock block{0, row, static_cast<std::uint32_t>(tokens), {}, {}};
  block.expert_ids.resize(total);
  // expert e's copies occupy a run of positions in the list; position p is token p % T, slot p / T,
  // so a run no longer than T never gives one token the same expert twice
  std::uint64_t position = 0;
  for (std::uint32_t e = 0; e < per_expert.size(); ++e)
    for (std::uint64_t copy = 0; copy < per_expert[e]; ++copy, ++position)
      block.expert_ids[(position % tokens) * top_k + position / tokens] = e;
  return block;
}

std::unique_ptr<RoutingSource> make_count_source(CountMatrix counts, std::uint32_t top_k,
                                                 std::string source) {
  return std::make_unique<CountSource>(std::move(counts), top_k, std::move(source));
}

std::unique_ptr<RoutingSource> make_block_source(TraceShape shape, std::vector<TraceBlock> blocks) {
  return std::make_unique<BlockSource>(shape, std::move(blocks));
}

namespace {

// An import option the chosen format does not read is refused, never silently ignored: the user
// asked for something the result would not reflect.
void refuse_unused_options(const std::string& path, const std::string& format,
                           const ImportOptions& options, bool reads_experts, bool reads_top_k) {
  if (!options.refuse_unused) return;
  const auto refuse = [&](const char* option, const char* what) {
    throw ConfigError(option, {{"", fmt::format("{} is {}; {} does not apply to it (it gives its "
                                                "own {})",
                                                path, format, option, what)}});
  };
  if (options.experts && !reads_experts) refuse("--experts", "experts");
  if (options.top_k && !reads_top_k) refuse("--top-k", "top-k");
  if (options.counts && format != "an .npy array") refuse("--counts", "layout");
}

// A ZIP archive: numpy.savez of vLLM's per-request routed experts, or torch.save of SGLang's
// expert-distribution record (an expert map is a placement, not routing: it is refused by name).
std::unique_ptr<RoutingSource> open_zip_routing(const std::string& path,
                                                const std::string& extension,
                                                const ImportOptions& options) {
  if (extension == ".npz") {
    refuse_unused_options(path, "vLLM routed experts (.npz)", options, true, false);
    return open_vllm_routed_experts_npz(path, options);
  }
  refuse_unused_options(path, "an SGLang expert-distribution record (.pt)", options, false, true);
  const TorchArchive archive = read_torch_archive(path);
  const auto& document = archive.document;
  const auto& root = document.root_value();
  if (root.kind == PickleKind::Tensor || document.find(root, "physical_to_logical_map"))
    throw ConfigError(path, {{"/",
                              "is a physical-to-logical expert map, a placement rather than "
                              "routing: give it as the placement file (moesim place "
                              "--strategy explicit --placement-file, or the scenario's "
                              "placement.file)"}});
  return open_sglang_record(archive, options);
}

std::unique_ptr<RoutingSource> open_any_routing(const std::string& path,
                                                const ImportOptions& options) {
  const std::string prefix = read_prefix(path, 8);
  const std::string extension = std::filesystem::path(path).extension().string();
  if (prefix == kTraceMagic) {
    refuse_unused_options(path, "a routing trace (.mtrace)", options, false, false);
    return std::make_unique<ReaderSource>(path);
  }
  // A file named .npy is judged as one: its first bytes are then named in the error.
  if (looks_like_zip(prefix) && extension != ".npy")
    return open_zip_routing(path, extension, options);
  if (extension == ".jsonl") {
    refuse_unused_options(path, "a Megatron-Core router trace (.jsonl)", options, true, false);
    return open_megatron_router_trace(path, read_text_file(path), options);
  }
  if (prefix.rfind("\x93NUMPY", 0) == 0) {
    // A count matrix takes --top-k (it cannot say); an id array takes --experts (ids can miss
    // some).
    refuse_unused_options(path, "an .npy array", options, !options.counts, options.counts);
    const NpyArray array = read_npy(path);
    if (array.shape.size() == 3 && !options.counts)
      return open_vllm_routed_experts(array, path, options);
    if (options.counts) {
      CountMatrix counts = count_matrix_from_npy(array, path);
      const auto top_k = options.top_k;
      return make_count_source(std::move(counts), top_k, path);
    }
    const std::uint32_t experts =
        options.experts ? options.experts : npy_experts_needed(array, path);
    TraceBlock block = npy_to_block(array, path, experts);
    const TraceShape shape{
        1, experts, array.shape.size() == 2 ? static_cast<std::uint32_t>(array.shape[1]) : 1U,
        ScoreType::None};
    std::vector<TraceBlock> blocks;
    blocks.push_back(std::move(block));
    return make_block_source(shape, std::move(blocks));
  }
  if (extension == ".mtrace") return std::make_unique<ReaderSource>(path);  // reports the bad magic
  if (extension == ".npy") throw ConfigError(path, {{"byte 0", corrupt_npy_message(prefix)}});
  if (extension == ".json") {
    const std::string text = read_text_file(path);
    const auto json = parse_strict_json(text, path);
    if (json.is_object() && json.contains("tokens_per_expert")) {
      refuse_unused_options(path, "a count matrix (.json)", options, false, true);
      CountMatrix counts = count_matrix_from_json(text, path);
      const auto top_k = options.top_k ? options.top_k : counts.top_k;
      return make_count_source(std::move(counts), top_k, path);
    }
    if (json.is_object() && (json.contains("files") || json.contains("pattern")))
      return open_npy_manifest(path, text, options);
    throw ConfigError(
        path,
        {{"/", "expected tokens_per_expert (a count matrix) or files/pattern (an .npy manifest)"}});
  }
  if (extension == ".csv") return open_csv_routing(path, read_text_file(path), options);
  throw ConfigError(
      path,
      {{"/", fmt::format("expected a routing trace (MOETRACE magic), an .npy/.npz array, a torch "
                         ".pt record, or a .json, .jsonl or .csv file, got extension '{}'",
                         extension)}});
}

}  // namespace

std::unique_ptr<RoutingSource> open_trace_bytes(std::string bytes, const std::string& source) {
  auto trace = std::make_unique<ReaderSource>(TraceReader(source, std::move(bytes)));
  if (const auto problem = shape_limit_problem(trace->shape()))
    throw ConfigError(source, {{"/", problem->message}});  // as open_routing checks a file
  return trace;
}

std::unique_ptr<RoutingSource> open_routing(const std::string& path, const ImportOptions& options) {
  // A directory, FIFO or device is refused before anything opens it (a FIFO would block).
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    throw ConfigError(path, {{"/", std::filesystem::is_directory(status)
                                       ? "is a directory; expected a routing file"
                                       : "expected a regular file"}});
  auto source = open_any_routing(path, options);
  // One check for every format, before any caller sizes a table by the shape (docs/limits.md).
  if (const auto problem = shape_limit_problem(source->shape()))
    throw ConfigError(path, {{"/", problem->message}});
  return source;
}

}  // namespace moesim::sim
