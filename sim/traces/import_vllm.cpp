// vLLM's returned routed experts (CompletionOutput.routed_experts, [tokens, MoE layers, top_k] per
// request) as users save them: numpy.save of one request, numpy.savez of several.
#include <fmt/format.h>
#include <zip.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "base/text_file.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import_stacks.hpp"
#include "sim/traces/zip_handle.hpp"

namespace moesim::sim {
namespace {

struct Request {
  NpyArray array;
  std::string source;  // "file.npz (member req0.npy)" or the file
};

// Shape checks: [tokens, layers, top_k], all requests alike.
void check_request(const Request& request, const Request& first) {
  const auto& shape = request.array.shape;
  if (shape.size() != 3)
    throw TraceError(request.source, 0,
                     fmt::format("expected vLLM's routed experts [tokens, layers, top_k], got {} "
                                 "dimensions",
                                 shape.size()));
  if (shape[1] == 0 || shape[1] > static_cast<std::uint64_t>(kMaxLayers) || shape[2] == 0 ||
      shape[2] > static_cast<std::uint64_t>(kMaxTopK))
    throw TraceError(request.source, 0,
                     fmt::format("expected 1 to {} layers and top_k 1 to {}, got [{}, {}, {}]",
                                 kMaxLayers, kMaxTopK, shape[0], shape[1], shape[2]));
  if (shape[1] != first.array.shape[1] || shape[2] != first.array.shape[2])
    throw TraceError(
        request.source, 0,
        fmt::format("expected [tokens, {}, {}] like {}, got [{}, {}, {}]", first.array.shape[1],
                    first.array.shape[2], first.source, shape[0], shape[1], shape[2]));
}

// Appends the request's [tokens, top_k] choices of layer `layer`, each checked.
void append_layer(const Request& request, std::uint32_t layer, std::uint32_t experts,
                  TraceBlock& block) {
  const auto& array = request.array;
  const auto layers = array.shape[1];
  const auto top_k = static_cast<std::uint32_t>(array.shape[2]);
  for (std::uint64_t t = 0; t < array.shape[0]; ++t) {
    const std::uint64_t first = (t * layers + layer) * top_k;
    for (std::uint32_t k = 0; k < top_k; ++k) {
      const auto id = array.at(first + k);
      if (id < 0 || id >= static_cast<std::int64_t>(experts))
        throw TraceError(request.source, array.data_offset + (first + k) * array.item_bytes,
                         fmt::format("token {} layer {} choice {}: expected an expert id in [0, "
                                     "{}), got {}",
                                     t, layer, k, experts, id));
      block.expert_ids.push_back(static_cast<std::uint32_t>(id));
    }
    const std::span<const std::uint32_t> ids(block.expert_ids.end() - top_k, top_k);
    if (auto problem = check_token_choices(ids, experts); !problem.empty())
      throw TraceError(request.source, array.data_offset + first * array.item_bytes,
                       fmt::format("token {} layer {}: {}", t, layer, problem));
  }
}

// Every request's tokens, in order, form one step; layer l's block holds their [tokens, top_k].
std::unique_ptr<RoutingSource> requests_to_source(const std::vector<Request>& requests,
                                                  const ImportOptions& options) {
  std::uint64_t tokens = 0;
  std::int64_t largest = -1;
  for (const auto& request : requests) {
    check_request(request, requests.front());
    tokens += request.array.shape[0];
    if (tokens * request.array.shape[2] > static_cast<std::uint64_t>(kMaxChoicesPerBlock))
      throw TraceError(request.source, 0,
                       fmt::format("expected at most {} tokens x top_k per layer over all "
                                   "requests (docs/limits.md)",
                                   kMaxChoicesPerBlock));
    for (std::uint64_t i = 0; i < request.array.elements(); ++i)
      largest = std::max(largest, request.array.at(i));
  }
  const auto layers = static_cast<std::uint32_t>(requests.front().array.shape[1]);
  const auto top_k = static_cast<std::uint32_t>(requests.front().array.shape[2]);
  const std::uint32_t experts =
      options.experts
          ? options.experts
          : static_cast<std::uint32_t>(std::clamp<std::int64_t>(largest + 1, 1, kMaxExperts + 1));
  std::vector<TraceBlock> blocks;
  for (std::uint32_t l = 0; l < layers; ++l) {
    TraceBlock& block =
        blocks.emplace_back(TraceBlock{0, l, static_cast<std::uint32_t>(tokens), {}, {}});
    block.expert_ids.reserve(tokens * top_k);
    for (const auto& request : requests) append_layer(request, l, experts, block);
  }
  return make_block_source({layers, experts, top_k, ScoreType::None}, std::move(blocks));
}

// Each member .npy of the archive, in order; members may be stored or deflated (savez_compressed)
// but none may expand past kMaxNpzMemberBytes.
constexpr std::uint64_t kMaxNpzMemberBytes = std::uint64_t{1} << 28;

std::vector<Request> npz_members(std::span<const std::byte> bytes, const std::string& source) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  ZipHandle archive(buffer ? zip_open_from_source(buffer, ZIP_RDONLY | ZIP_CHECKCONS, &error)
                           : nullptr);
  if (!archive) {
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (buffer) zip_source_free(buffer);
    throw TraceError(source, 0,
                     fmt::format("expected a ZIP archive (numpy.savez), got: {}", reason));
  }
  zip_error_fini(&error);
  std::vector<Request> requests;
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t stat;
    zip_stat_init(&stat);
    const std::string name =
        zip_get_name(archive.get(), index, 0) ? zip_get_name(archive.get(), index, 0) : "";
    const std::string member = fmt::format("{} (member {})", source, name);
    if (zip_stat_index(archive.get(), index, 0, &stat) != 0 || !(stat.valid & ZIP_STAT_SIZE) ||
        stat.size > kMaxNpzMemberBytes)
      throw TraceError(
          member, 0,
          fmt::format("expected a readable .npy of at most {} bytes", kMaxNpzMemberBytes));
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
        zip_fopen_index(archive.get(), index, 0), &zip_fclose);
    std::vector<std::byte> data(stat.size);
    if (!file ||
        zip_fread(file.get(), data.data(), stat.size) != static_cast<zip_int64_t>(stat.size))
      throw TraceError(member, 0,
                       fmt::format("expected {} readable bytes (the archive is "
                                   "damaged)",
                                   stat.size));
    requests.push_back({parse_npy(data, member), member});
  }
  if (requests.empty()) throw TraceError(source, 0, "expected at least one array in the .npz");
  return requests;
}

}  // namespace

std::unique_ptr<RoutingSource> open_vllm_routed_experts(const NpyArray& array,
                                                        const std::string& source,
                                                        const ImportOptions& options) {
  return requests_to_source({Request{array, source}}, options);
}

std::unique_ptr<RoutingSource> parse_vllm_routed_experts_npz(std::span<const std::byte> bytes,
                                                             const std::string& source,
                                                             const ImportOptions& options) {
  return requests_to_source(npz_members(bytes, source), options);
}

std::unique_ptr<RoutingSource> open_vllm_routed_experts_npz(const std::string& path,
                                                            const ImportOptions& options) {
  const std::string chars = read_text_file(path);  // binary-safe; bounded
  const auto* begin = reinterpret_cast<const std::byte*>(chars.data());
  return parse_vllm_routed_experts_npz({begin, chars.size()}, path, options);
}

}  // namespace moesim::sim
