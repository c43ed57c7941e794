#pragma once
// The binary routing-trace format, version 1 (docs/trace-format.md describes it byte by byte):
// shared constants, the shape and block types, TraceError, CRC-32C and fp16/bf16 conversion.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/config_error.hpp"

namespace moesim::sim {

inline constexpr std::string_view kTraceMagic = "MOETRACE";
inline constexpr std::uint16_t kTraceVersion = 1;
inline constexpr std::size_t kTraceHeaderBytes = 32;
inline constexpr std::string_view kBlockMagic = "TBLK";
inline constexpr std::size_t kBlockHeaderBytes = 28;
inline constexpr std::string_view kIndexMagic = "TIDX";
inline constexpr std::size_t kIndexHeaderBytes = 16;
inline constexpr std::size_t kIndexEntryBytes = 16;
inline constexpr std::string_view kFooterMagic = "TEND";
inline constexpr std::size_t kFooterBytes = 16;

enum class ScoreType : std::uint8_t { None = 0, Fp16 = 1, Bf16 = 2 };

// What every block of a trace shares.
struct TraceShape {
  std::uint32_t layers = 0;  // MoE layers per step
  std::uint32_t experts = 0;
  std::uint32_t top_k = 0;
  ScoreType scores = ScoreType::None;
  int id_bytes() const;     // smallest of 1, 2, 4 that holds experts - 1
  int score_bytes() const;  // 0 or 2
  friend bool operator==(const TraceShape&, const TraceShape&) = default;
};

// One MoE layer of one step: which experts each token chose (row-major tokens × top_k).
struct TraceBlock {
  std::uint32_t step = 0;
  std::uint32_t layer = 0;
  std::uint32_t tokens = 0;
  std::vector<std::uint32_t> expert_ids;
  std::vector<float> scores;  // same shape as expert_ids, or empty when the trace has none
};

// A malformed trace: "trace.bin: byte 4096: expected ...". The CLI maps it to exit code 2.
class TraceError : public ConfigError {
 public:
  TraceError(std::string file, std::uint64_t offset, const std::string& message);
  std::uint64_t offset() const { return offset_; }

 private:
  std::uint64_t offset_;
};

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78); pass the previous value to chain. Uses the
// SSE4.2 crc32 instruction where the CPU has it, the portable tables elsewhere.
std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc = 0);
// The two paths behind crc32c(), exposed so tests can check they agree. crc32c_hardware() may be
// called only when crc32c_hardware_supported(); off x86-64 it is the portable path.
std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t crc = 0);
bool crc32c_hardware_supported();
std::uint32_t crc32c_hardware(std::span<const std::byte> bytes, std::uint32_t crc = 0);

// IEEE 754 binary16 and bfloat16, round to nearest even.
std::uint16_t float_to_fp16(float value);
float fp16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);
float bf16_to_float(std::uint16_t bits);
// What a score becomes after a round trip through the file's score type.
float quantise_score(float value, ScoreType type);

std::string_view score_type_name(ScoreType type);
int id_bytes_for(std::uint32_t experts);

// A trace shape past docs/limits.md (sim/spec/limits.hpp): which header field, and what was
// expected.
struct ShapeLimitProblem {
  std::string field;  // "layers", "experts" or "top_k"
  std::string message;
};
// The first limit `shape` breaks (layers, experts, top_k, layers x experts); nullopt when within
// them. Readers, importers and generators all check here before they allocate by the shape.
std::optional<ShapeLimitProblem> shape_limit_problem(const TraceShape& shape);

// Checks one token's choices: each id < experts, none twice. Returns an empty string when valid,
// otherwise what is wrong ("expert id 70 >= experts 64").
std::string check_token_choices(std::span<const std::uint32_t> ids, std::uint32_t experts);

// Validates whole blocks of row-major [tokens][top_k] choices in one linear pass (one stamp per
// expert instead of a pairwise scan per token); keeps its scratch between blocks.
class ChoiceChecker {
 public:
  // The first token whose choices check_token_choices() refuses, or `tokens` when all are valid.
  std::uint64_t first_invalid_token(std::span<const std::uint32_t> ids, std::uint32_t top_k,
                                    std::uint32_t experts);

 private:
  std::vector<std::uint64_t> last_token_;  // per expert: 1 + the last token that chose it
};

// Decodes `out.size()` little-endian ids of `width` bytes (1, 2 or 4).
void decode_ids(const std::byte* bytes, int width, std::span<std::uint32_t> out);

// Little-endian field access over raw bytes (the format is little-endian on every host).
std::uint64_t load_le(const std::byte* bytes, int width);
void store_le(std::byte* bytes, std::uint64_t value, int width);

}  // namespace moesim::sim
