// moesim trace gen|import|convert|stats: make, import, convert and summarise routing traces.
#include <fmt/core.h>

#include <filesystem>
#include <fstream>

#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/cli/commands.hpp"
#include "sim/draw/heatmap.hpp"
#include "sim/routing/generators.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import.hpp"
#include "sim/traces/stats.hpp"
#include "sim/traces/writer.hpp"

namespace moesim::cli {
namespace {

struct TraceOptions {
  std::string input;
  std::string output;
  sim::ImportOptions import{.refuse_unused = true};  // options the user gave: none ignored
  bool json = false;
  std::string heatmap;
  sim::GeneratorSpec generator;
};

// Streams any source into a binary trace; a block the writer refuses is the input's fault.
std::uint64_t write_trace(sim::RoutingSource& source, const std::string& input,
                          const std::string& output) {
  sim::TraceWriter writer(output, source.shape());
  sim::TraceBlock block;
  std::uint64_t choices = 0;
  try {
    while (source.next(block)) {
      // A 1.8 MB count matrix expanded into a 17 GB trace: the same bound as trace gen's.
      choices += block.expert_ids.size();
      if (choices > static_cast<std::uint64_t>(sim::kMaxTraceChoices))
        throw ConfigError(input,
                          {{"/", fmt::format("expected at most {} expert choices in a "
                                             "converted trace (docs/limits.md); step {} "
                                             "layer {} passes it",
                                             sim::kMaxTraceChoices, block.step, block.layer)}});
      writer.write_block(block);
    }
    writer.finish();
  } catch (const std::invalid_argument& error) {
    throw ConfigError(input, {{"/", error.what()}});
  }
  return writer.blocks_written();
}

void refuse_past_trace_choices(const sim::CountMatrix& counts, const std::string& input) {
  std::uint64_t choices = 0;  // each row's sum was checked below 2^64 when it was read
  for (const auto& row : counts.tokens_per_expert)
    for (const std::uint64_t c : row)
      if ((choices += c) > static_cast<std::uint64_t>(sim::kMaxTraceChoices))
        throw ConfigError(input, {{"/tokens_per_expert",
                                   fmt::format("expected at most {} expert choices over all layers "
                                               "for a trace (docs/limits.md)",
                                               sim::kMaxTraceChoices)}});
}

// The output's extension says its format; one that says another (.csv, .npy, .JSON) would get a
// binary trace under its name. A path without one (/dev/stdout) is written as a trace.
void check_output_extension(const std::string& output, bool counts_allowed) {
  const std::string extension = std::filesystem::path(output).extension().string();
  if (extension.empty() || extension == ".mtrace" || (counts_allowed && extension == ".json"))
    return;
  throw ConfigError("-o", {{"", fmt::format("expected a .mtrace{} file name, got '{}'",
                                            counts_allowed ? " or .json" : "", extension)}});
}

int convert(const TraceOptions& options) {
  check_output_extension(options.output, true);
  refuse_output_over_input(options.output, std::span(&options.input, 1));
  auto source = sim::open_routing(options.input, options.import);
  if (std::filesystem::path(options.output).extension() == ".json") {
    const auto stats = sim::compute_trace_stats(*source);
    nlohmann::json counts{{"experts", stats.shape.experts}, {"top_k", stats.shape.top_k}};
    for (const auto& layer : stats.layers) {
      counts["layers"].push_back(layer.layer);
      counts["tokens_per_expert"].push_back(layer.tokens_per_expert);
    }
    write_text_file(options.output, counts.dump() + "\n");
    fmt::print("wrote {} (count matrix, {} layers x {} experts)\n",
               escape_for_terminal(options.output), stats.layers.size(), stats.shape.experts);
    return kExitOk;
  }
  const auto shape = source->shape();
  // A count matrix says how many copies each expert got, not how many tokens made them.
  if (source->counts() != nullptr && shape.top_k == 0)
    throw ConfigError(options.input,
                      {{"/top_k",
                        "expected top_k to turn counts into tokens; the file does not "
                        "give it (hint: pass --top-k K, the model's experts per token)"}});
  if (const auto* counts = source->counts())  // its size is known before a byte is written
    refuse_past_trace_choices(*counts, options.input);
  const auto blocks = write_trace(*source, options.input, options.output);
  fmt::print("wrote {}: {} blocks ({} layers x {} experts, top-{})\n",
             escape_for_terminal(options.output), blocks, shape.layers, shape.experts, shape.top_k);
  return kExitOk;
}

int generate(const TraceOptions& options) {
  sim::TraceGenerator generator(options.generator);
  check_output_extension(options.output, false);
  sim::TraceWriter writer(options.output, generator.shape());
  sim::TraceBlock block;
  while (generator.next(block)) writer.write_block(block);
  writer.finish();
  fmt::print("wrote {}: {} steps x {} layers of {} tokens ({}, seed {})\n",
             escape_for_terminal(options.output), options.generator.steps, options.generator.layers,
             options.generator.tokens, sim::choice_name(options.generator.kind),
             options.generator.seed);
  return kExitOk;
}

int stats(const TraceOptions& options) {
  // the file name is checked before the (possibly long) pass over the trace
  const auto heatmap_extension = std::filesystem::path(options.heatmap).extension().string();
  if (!options.heatmap.empty() && heatmap_extension != ".svg" && heatmap_extension != ".png")
    throw ConfigError(options.heatmap,
                      {{"--heatmap", fmt::format("expected a .svg or .png file name, got extension "
                                                 "'{}'",
                                                 heatmap_extension)}});
  auto source = sim::open_routing(options.input, options.import);
  const auto stats = sim::compute_trace_stats(*source);
  if (options.json)
    fmt::print("{}\n", sim::trace_stats_to_json(stats).dump(2));
  else
    fmt::print("{}", sim::trace_stats_text(stats));
  if (!options.heatmap.empty())
    sim::write_heatmap(stats,
                       fmt::format("{}: {} layers x {} experts, top-{}",
                                   std::filesystem::path(options.input).filename().string(),
                                   stats.layers.size(), stats.shape.experts, stats.shape.top_k),
                       options.heatmap);
  return kExitOk;
}

void add_import_options(CLI::App* command, TraceOptions& options) {
  command->add_option("--experts", options.import.experts,
                      "experts per layer (id arrays; default max id + 1)");
  command->add_option("--top-k", options.import.top_k, "top-k (count matrices that do not say)");
  command->add_flag("--counts", options.import.counts,
                    "the .npy is a [layers, experts] count matrix");
}

}  // namespace

void add_trace_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<TraceOptions>();
  auto* trace = app.add_subcommand("trace", "Make, import, convert and summarise routing traces");
  trace->require_subcommand(1);

  auto* gen = trace->add_subcommand("gen", "Generate a seeded synthetic routing trace");
  auto& g = options->generator;
  gen->add_option_function<std::string>(
         "--kind",
         [&g](const std::string& name) {
           g.kind = *sim::choice_from_name<sim::TraceGeneratorKind>(name);
         },
         sim::choice_list<sim::TraceGeneratorKind>() + " (default uniform)")
      ->check(one_of_choices<sim::TraceGeneratorKind>());
  gen->add_option("--layers", g.layers, "MoE layers")->capture_default_str();
  gen->add_option("--experts", g.experts, "experts per layer")->capture_default_str();
  gen->add_option("--top-k", g.top_k, "experts per token")->capture_default_str();
  gen->add_option("--tokens", g.tokens, "tokens per step")->capture_default_str();
  gen->add_option("--steps", g.steps, "steps")->capture_default_str();
  gen->add_option("--zipf-s", g.zipf_exponent, "Zipf exponent")->capture_default_str();
  gen->add_option("--n-group", g.n_group, "expert groups (group-limited)")->capture_default_str();
  gen->add_option("--topk-group", g.topk_group, "groups per token (group-limited)")
      ->capture_default_str();
  gen->add_option("--drift", g.drift, "share of popularity ranks swapped per step")
      ->capture_default_str();
  gen->add_option("--burst-probability", g.burst_probability, "chance per block of a hot expert")
      ->capture_default_str();
  gen->add_option("--burst-factor", g.burst_factor, "weight multiplier of a bursting expert")
      ->capture_default_str();
  gen->add_option("--layer-correlation", g.layer_correlation,
                  "chance a token repeats last layer's choices")
      ->capture_default_str();
  // unsigned: require_strict_option_values keeps CLI11 from turning -1 into 2^64 - 1
  gen->add_option("--seed", g.seed, "random seed")->capture_default_str();
  gen->add_option("-o,--out", options->output, "output trace (.mtrace)")->required();
  gen->callback([&action, options, gen] {
    // Options the chosen kind does not read would change nothing: refused, not ignored.
    std::vector<std::string> unread;
    const auto kind = options->generator.kind;
    if (kind == sim::TraceGeneratorKind::Uniform && gen->count("--zipf-s") > 0)
      unread.push_back("--zipf-s");
    for (const char* name : {"--n-group", "--topk-group"})
      if (kind != sim::TraceGeneratorKind::GroupLimited && gen->count(name) > 0)
        unread.push_back(name);
    action = [options, unread] {
      if (!unread.empty())
        throw ConfigError(unread.front(), {{"",
                                            "the chosen --kind does not read it; expected "
                                            "--kind zipf or group-limited for --zipf-s, "
                                            "group-limited for --n-group and --topk-group"}});
      return generate(*options);
    };
  });

  for (const char* name : {"import", "convert"}) {
    auto* command = trace->add_subcommand(
        name,
        std::string(name) == "import"
            ? "Import .npy/.json/.csv routing into a binary trace"
            : "Convert any importable routing to a trace (.mtrace) or a count matrix (.json)");
    command->add_option("input", options->input, "routing file")->required();
    command->add_option("-o,--out", options->output, "output file")->required();
    add_import_options(command, *options);
    command->callback([&action, options] { action = [options] { return convert(*options); }; });
  }

  auto* stat = trace->add_subcommand(
      "stats", "Per-layer tokens per expert, imbalance, entropy, hottest experts, co-activation");
  stat->add_option("input", options->input, "routing file (.mtrace, .npy, .json, .csv)")
      ->required();
  add_import_options(stat, *options);
  stat->add_flag("--json", options->json, "print JSON");
  stat->add_option("--heatmap", options->heatmap, "write a layer x expert heat map (.svg or .png)");
  stat->callback([&action, options] { action = [options] { return stats(*options); }; });
}

}  // namespace moesim::cli
