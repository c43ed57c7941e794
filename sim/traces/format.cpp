#include "sim/traces/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "sim/spec/limits.hpp"

namespace moesim::sim {
namespace {

// The one definition of the polynomial: the tables below are built from it, and the SSE4.2 crc32
// instruction hard-wires the same one (tests check that both paths agree).
constexpr std::uint32_t kCrc32cPolynomial = 0x82F63B78U;  // Castagnoli, reflected

// Slice-by-4 tables for CRC-32C; table[0] is the classic byte-at-a-time table.
constexpr std::array<std::array<std::uint32_t, 256>, 4> make_crc_tables() {
  std::array<std::array<std::uint32_t, 256>, 4> tables{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1U) ? kCrc32cPolynomial : 0U);
    tables[0][i] = crc;
  }
  for (std::uint32_t i = 0; i < 256; ++i)
    for (std::size_t t = 1; t < 4; ++t)
      tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xFFU];
  return tables;
}

constexpr auto kCrcTables = make_crc_tables();

}  // namespace

int TraceShape::id_bytes() const { return id_bytes_for(experts); }
int TraceShape::score_bytes() const { return scores == ScoreType::None ? 0 : 2; }

int id_bytes_for(std::uint32_t experts) {
  if (experts <= 0x100U) return 1;
  if (experts <= 0x10000U) return 2;
  return 4;
}

TraceError::TraceError(std::string file, std::uint64_t offset, const std::string& message)
    : ConfigError(std::move(file), {{fmt::format("byte {}", offset), message}}), offset_(offset) {}

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t crc) {
  crc = ~crc;
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  while (left >= 4) {
    crc ^= static_cast<std::uint32_t>(load_le(p, 4));
    crc = kCrcTables[3][crc & 0xFFU] ^ kCrcTables[2][(crc >> 8) & 0xFFU] ^
          kCrcTables[1][(crc >> 16) & 0xFFU] ^ kCrcTables[0][crc >> 24];
    p += 4;
    left -= 4;
  }
  for (; left > 0; --left, ++p)
    crc = (crc >> 8) ^ kCrcTables[0][(crc ^ std::to_integer<std::uint32_t>(*p)) & 0xFFU];
  return ~crc;
}

#if defined(__x86_64__)
bool crc32c_hardware_supported() {
  static const bool supported = __builtin_cpu_supports("sse4.2");
  return supported;
}

// 8 bytes per crc32 instruction: 9 GB/s against the tables' 1.3 GB/s on the dev box
// (BM_Crc32c* in tests/bench/trace_ingest_bench.cpp).
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(std::span<const std::byte> bytes,
                                                                std::uint32_t crc) {
  std::uint64_t state = ~crc;
  const std::byte* p = bytes.data();
  std::size_t left = bytes.size();
  for (; left >= 8; p += 8, left -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as the format is
    state = __builtin_ia32_crc32di(state, word);
  }
  auto narrow = static_cast<std::uint32_t>(state);
  for (; left > 0; --left, ++p)
    narrow = __builtin_ia32_crc32qi(narrow, std::to_integer<std::uint8_t>(*p));
  return ~narrow;
}
#else
bool crc32c_hardware_supported() { return false; }
std::uint32_t crc32c_hardware(std::span<const std::byte> bytes, std::uint32_t crc) {
  return crc32c_portable(bytes, crc);
}
#endif

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t crc) {
  return crc32c_hardware_supported() ? crc32c_hardware(bytes, crc) : crc32c_portable(bytes, crc);
}

std::uint16_t float_to_fp16(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000U;
  const std::uint32_t magnitude = bits & 0x7FFFFFFFU;
  if (magnitude >= 0x7F800000U)  // inf stays inf; NaN stays a quiet NaN
    return static_cast<std::uint16_t>(sign | 0x7C00U | (magnitude > 0x7F800000U ? 0x200U : 0U));
  if (magnitude >= 0x47800000U) return static_cast<std::uint16_t>(sign | 0x7C00U);  // >= 2^16
  const std::uint32_t exponent = magnitude >> 23;
  if (magnitude < 0x38800000U) {  // below 2^-14: binary16 subnormal, or zero
    if (magnitude < 0x33000000U) return static_cast<std::uint16_t>(sign);  // < 2^-25
    const std::uint32_t mantissa = (magnitude & 0x7FFFFFU) | 0x800000U;
    const std::uint32_t shift = 126U - exponent;  // value / 2^-24 = mantissa * 2^(exponent-126)
    std::uint32_t result = mantissa >> shift;
    const std::uint32_t rest = mantissa & ((1U << shift) - 1U);
    const std::uint32_t half = 1U << (shift - 1U);
    if (rest > half || (rest == half && (result & 1U))) ++result;
    return static_cast<std::uint16_t>(sign | result);
  }
  std::uint32_t result = ((exponent - 112U) << 10) | ((magnitude >> 13) & 0x3FFU);
  const std::uint32_t rest = magnitude & 0x1FFFU;
  if (rest > 0x1000U || (rest == 0x1000U && (result & 1U))) ++result;  // a carry may reach inf
  return static_cast<std::uint16_t>(sign | result);
}

float fp16_to_float(std::uint16_t bits) {
  const std::uint32_t sign = (static_cast<std::uint32_t>(bits) & 0x8000U) << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1FU;
  const std::uint32_t mantissa = bits & 0x3FFU;
  if (exponent == 0) {
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) return std::bit_cast<float>(sign | 0x7F800000U | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112U) << 23) | (mantissa << 13));
}

std::uint16_t float_to_bf16(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFU) > 0x7F800000U) return static_cast<std::uint16_t>((bits >> 16) | 0x40U);
  const std::uint32_t rounding = 0x7FFFU + ((bits >> 16) & 1U);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float bf16_to_float(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

float quantise_score(float value, ScoreType type) {
  switch (type) {
    case ScoreType::Fp16:
      return fp16_to_float(float_to_fp16(value));
    case ScoreType::Bf16:
      return bf16_to_float(float_to_bf16(value));
    case ScoreType::None:
      break;
  }
  return value;
}

std::string_view score_type_name(ScoreType type) {
  switch (type) {
    case ScoreType::None:
      return "none";
    case ScoreType::Fp16:
      return "fp16";
    case ScoreType::Bf16:
      return "bf16";
  }
  return "unknown";
}

std::optional<ShapeLimitProblem> shape_limit_problem(const TraceShape& shape) {
  const auto outside = [](std::string field, std::int64_t value,
                          std::int64_t max) -> std::optional<ShapeLimitProblem> {
    if (value <= max)
      return std::nullopt;  // the lower bounds are each reader's (0 may mean "not given")
    auto message = fmt::format("expected {} <= {} (docs/limits.md), got {}", field, max, value);
    return ShapeLimitProblem{std::move(field), std::move(message)};
  };
  if (auto problem = outside("layers", shape.layers, kMaxLayers)) return problem;
  if (auto problem = outside("experts", shape.experts, kMaxExperts)) return problem;
  if (auto problem = outside("top_k", shape.top_k, kMaxTopK)) return problem;
  const std::int64_t cells = std::int64_t{shape.layers} * shape.experts;  // both <= 2^13 here
  if (cells > kMaxLayerExpertCells)
    return ShapeLimitProblem{
        "layers", fmt::format("expected layers x experts <= {} (docs/limits.md), got {} x {} = {}",
                              kMaxLayerExpertCells, shape.layers, shape.experts, cells)};
  return std::nullopt;
}

std::string check_token_choices(std::span<const std::uint32_t> ids, std::uint32_t experts) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= experts) return fmt::format("expert id {} >= experts {}", ids[i], experts);
    // top-k is small (<= 16 in every production model), so the quadratic scan is the fast one
    for (std::size_t j = 0; j < i; ++j)
      if (ids[j] == ids[i])
        return fmt::format("expert {} chosen twice (top-k is without replacement)", ids[i]);
  }
  return {};
}

std::uint64_t ChoiceChecker::first_invalid_token(std::span<const std::uint32_t> ids,
                                                 std::uint32_t top_k, std::uint32_t experts) {
  // above this the stamps would outgrow the block they check; the pairwise scan takes over
  constexpr std::uint32_t kMaxStampedExperts = 1U << 16;
  const std::uint64_t tokens = top_k == 0 ? 0 : ids.size() / top_k;
  std::uint32_t largest = 0;
  for (const std::uint32_t id : ids) largest = std::max(largest, id);  // vectorised
  if (largest < experts && experts <= kMaxStampedExperts) {
    last_token_.assign(experts, 0);
    for (std::uint64_t t = 0; t < tokens; ++t) {
      const std::uint32_t* token = &ids[t * top_k];
      bool repeated = false;
      for (std::uint32_t i = 0; i < top_k; ++i) {
        repeated |= last_token_[token[i]] == t + 1;
        last_token_[token[i]] = t + 1;
      }
      if (repeated) return t;
    }
    return tokens;
  }
  for (std::uint64_t t = 0; t < tokens; ++t)
    if (!check_token_choices(ids.subspan(t * top_k, top_k), experts).empty()) return t;
  return tokens;
}

void decode_ids(const std::byte* bytes, int width, std::span<std::uint32_t> out) {
  // one loop per width, so the compiler sees fixed-size loads and vectorises them
  const auto byte = [bytes](std::size_t i) { return std::to_integer<std::uint32_t>(bytes[i]); };
  switch (width) {
    case 1:
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = byte(i);
      break;
    case 2:
      for (std::size_t i = 0; i < out.size(); ++i) out[i] = byte(2 * i) | (byte(2 * i + 1) << 8);
      break;
    default:
      for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = byte(4 * i) | (byte(4 * i + 1) << 8) | (byte(4 * i + 2) << 16) |
                 (byte(4 * i + 3) << 24);
      break;
  }
}

std::uint64_t load_le(const std::byte* bytes, int width) {
  std::uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i)
    value = (value << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  return value;
}

void store_le(std::byte* bytes, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) bytes[i] = static_cast<std::byte>((value >> (8 * i)) & 0xFFU);
}

}  // namespace moesim::sim
