#pragma once
// Routing from any importable file, as one stream of blocks (docs/trace-format.md lists the
// formats): binary traces, NumPy id arrays (one file, or many through a manifest), per-expert count
// matrices (JSON, .npy, CSV; the shared real-routing files), per-token CSV, and generators.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/traces/format.hpp"
#include "sim/traces/npy_reader.hpp"

namespace moesim::sim {

// Per-expert token counts [layers][experts] with no per-token order (what EPLB takes as input).
struct CountMatrix {
  std::uint32_t experts = 0;
  std::uint32_t top_k = 0;              // 0 when the file does not say
  std::vector<std::int64_t> layer_ids;  // model layer of each row (0, 1, ... when not given)
  std::vector<std::vector<std::uint64_t>> tokens_per_expert;
};

class RoutingSource {
 public:
  virtual ~RoutingSource() = default;
  virtual TraceShape shape() const = 0;
  // Blocks in (step, layer) order, as TraceReader gives them; false at the end.
  virtual bool next(TraceBlock& block) = 0;
  // Starts the blocks again from the first, so one opened source serves several passes.
  virtual void rewind() = 0;
  // The counts themselves when the input is a count matrix; nullptr for per-token routing.
  virtual const CountMatrix* counts() const { return nullptr; }
};

struct ImportOptions {
  std::uint32_t experts = 0;  // for id arrays: 0 = max id + 1
  std::uint32_t top_k = 0;    // for count matrices that do not give it
  bool counts = false;        // a .npy is a [layers, experts] count matrix, not [tokens, top_k] ids
  // Set where a user gave the options (the CLI): one the format does not read is then refused
  // (ConfigError naming the option) rather than ignored. Scenarios pass their model's experts and
  // top-k as hints for any format and leave it unset.
  bool refuse_unused = false;
};

// Picks the importer by extension and content; every malformation is a ConfigError (TraceError for
// binary input) naming the file and the byte offset, line or JSON path.
std::unique_ptr<RoutingSource> open_routing(const std::string& path,
                                            const ImportOptions& options = {});

// An .mtrace held in memory, named `source` in errors: the reader and the shape limits that
// open_routing applies to a trace file (the fuzz targets use it, so no input costs a file).
std::unique_ptr<RoutingSource> open_trace_bytes(std::string bytes, const std::string& source);

// One .npy [tokens, top_k] (or [tokens]) of expert ids as a block; checks every id.
TraceBlock npy_to_block(const NpyArray& array, const std::string& source, std::uint32_t experts);
// The largest id in an id array, + 1 (the expert count when none is given).
std::uint32_t npy_experts_needed(const NpyArray& array, const std::string& source);

// Count matrices from their file formats.
CountMatrix count_matrix_from_json(const std::string& text, const std::string& source);
CountMatrix count_matrix_from_npy(const NpyArray& array, const std::string& source);
CountMatrix count_matrix_from_csv(const std::string& text, const std::string& source);

// A block of `layer` whose tokens reproduce the row's counts exactly (docs/trace-format.md says
// how); ConfigError when no such tokens exist.
TraceBlock tokens_from_counts(const CountMatrix& counts, std::uint32_t row, std::uint32_t top_k,
                              const std::string& source);

std::unique_ptr<RoutingSource> make_count_source(CountMatrix counts, std::uint32_t top_k,
                                                 std::string source);
std::unique_ptr<RoutingSource> make_block_source(TraceShape shape, std::vector<TraceBlock> blocks);
std::unique_ptr<RoutingSource> open_npy_manifest(const std::string& path, const std::string& text,
                                                 const ImportOptions& options);
std::unique_ptr<RoutingSource> open_csv_routing(const std::string& path, const std::string& text,
                                                const ImportOptions& options);

}  // namespace moesim::sim
