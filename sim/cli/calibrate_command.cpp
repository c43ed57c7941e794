// `moesim calibrate TIMINGS... --out PROFILE`: fit per-phase cost curves to phase timings recorded
// on any stack (docs/calibrate.md); `--check PROFILE TIMINGS...` predicts held-out timings with a
// calibrated profile and reports the errors and the band's coverage.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "base/terminal_text.hpp"
#include "base/text_file.hpp"
#include "sim/calibrate/cross_check.hpp"
#include "sim/calibrate/fit.hpp"
#include "sim/calibrate/holdout.hpp"
#include "sim/cli/commands.hpp"
#include "sim/cli/strict_options.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/spec/builtin_profiles.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::cli {
namespace {

struct CalibrateOptions {
  std::vector<std::string> timings;
  std::string out;
  std::string stack;
  std::string base = "auto";
  std::string check;
  std::string table;
  std::string json;
  std::string cross_check;
  int rounds = 10;
  std::uint64_t seed = 1;
  bool force_device = false;
};

// A file named twice (or by two paths) would count each record twice, narrowing the band.
void refuse_repeated_files(const std::vector<std::string>& paths) {
  for (std::size_t i = 1; i < paths.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code error;  // a missing file is reported when it is read
      if (std::filesystem::equivalent(paths[j], paths[i], error))
        throw ConfigError(paths[i], {{"", fmt::format("the same file as timings argument {} "
                                                      "({}); give each file once",
                                                      j + 1, paths[j])}});
    }
}

// The records of one stack and one device: the stack asked for, or the only one there is.
std::vector<sim::TimingRecord> select_records(const CalibrateOptions& o) {
  refuse_repeated_files(o.timings);
  std::vector<sim::TimingRecord> all;
  for (const auto& path : o.timings) {
    for (auto& r : sim::load_timings(path)) all.push_back(std::move(r));
    // Each file is bounded by its reader; together they are bounded too (docs/limits.md).
    if (all.size() > static_cast<std::size_t>(sim::kMaxCalibrationRecords))
      throw ConfigError(path, {{"/records", fmt::format("the timings files hold {} records up to "
                                                        "this one; expected at most {} in all "
                                                        "(docs/limits.md)",
                                                        all.size(), sim::kMaxCalibrationRecords)}});
  }
  sim::refuse_duplicate_records(all);
  std::set<std::string> stacks;
  for (const auto& r : all) stacks.insert(r.stack);
  const std::string source = o.timings.front();
  if (o.stack.empty() && stacks.size() > 1)
    throw ConfigError(source, {{"/records", fmt::format("records of several stacks ({}); choose "
                                                        "one with --stack",
                                                        fmt::join(stacks, ", "))}});
  const std::string stack = o.stack.empty() ? *stacks.begin() : o.stack;
  std::vector<sim::TimingRecord> chosen;
  std::set<std::string> devices;
  for (auto& r : all)
    if (r.stack == stack) {
      devices.insert(r.device);
      chosen.push_back(std::move(r));
    }
  if (chosen.empty())
    throw ConfigError(source, {{"/records", fmt::format("no records of stack {} (there are: {})",
                                                        stack, fmt::join(stacks, ", "))}});
  if (devices.size() > 1)
    throw ConfigError(source, {{"/device", fmt::format("timings from several devices ({}); one "
                                                       "profile describes one device",
                                                       fmt::join(devices, ", "))}});
  return chosen;
}

std::string base_profile_name(const std::string& base, const std::string& device) {
  if (base != "auto") return base;
  if (device.find("H200") != std::string::npos) return "h200";
  if (device.find("H100") != std::string::npos) return "h100";
  throw ConfigError("--base", {{"", fmt::format("no built-in profile for device \"{}\"; give "
                                                "--base with a moesim-profile JSON of it",
                                                device)}});
}

// A profile taken on another device than the timings is refused unless forced.
void check_device(const std::string& profile_gpu, const std::string& timings_device,
                  const std::string& source, bool force) {
  if (profile_gpu == timings_device || force) return;
  throw ConfigError(source, {{"/provenance/gpu_name",
                              fmt::format("profile measured on \"{}\" but the timings come from "
                                          "\"{}\"; pass --force-device to combine them anyway",
                                          profile_gpu, timings_device)}});
}

int calibrate(const CalibrateOptions& o) {
  if (o.out.empty()) throw ConfigError("moesim calibrate", {{"--out", "give --out PROFILE.json"}});
  refuse_output_over_input(o.out, o.timings);
  const auto records = select_records(o);
  // The band comes from predicting records the fit did not see: that needs two at least.
  if (records.size() < 2)
    throw ConfigError(o.timings.front(),
                      {{"/records",
                        "expected at least 2 records of the stack, to measure the "
                        "fit's leave-one-out error"}});
  const std::string base = base_profile_name(o.base, records.front().device);
  const auto builtin = sim::builtin_profile_text(base);
  nlohmann::json profile =
      parse_strict_json(builtin ? std::string(*builtin) : read_text_file(base), base);
  const sim::MeasuredProfile base_profile(profile, base);
  check_device(base_profile.gpu_name(), records.front().device, base, o.force_device);
  const sim::CalibratedPhases phases = sim::calibrate_phases(records);
  profile["calibrated_phases"] = sim::to_json(phases);
  profile["calibrated_phases"]["timings"] = o.timings;
  profile["calibrated_phases"]["residuals_relative"] = sim::relative_residuals(phases, records);
  const sim::MeasuredProfile check(profile, o.out);  // what run will read back must load
  write_text_file(o.out, profile.dump(1) + "\n");
  fmt::print("stack     {} on {} ({} records, {} shapes; base profile {})\n",
             escape_for_terminal(phases.stack), escape_for_terminal(phases.device), phases.records,
             phases.shapes, escape_for_terminal(base));
  for (const auto& c : phases.curves) {
    fmt::print(
        "{:<9} {:>4} records  knee {:>3} tokens  fit rms {:5.1f}%  leave-one-shape-out rms "
        "{:5.1f}%, p90 {:5.1f}%\n",
        sim::phase_name(c.phase), c.records, c.knee_tokens, 100 * c.fit_rms, 100 * c.loo_rms,
        100 * c.loo_p90);
    if (c.launch_floor_flops > 0 && c.coefficients.size() > 2)
      fmt::print("          launch floor {:.3g} FLOPs an active expert ({:.1f} us)\n",
                 c.launch_floor_flops, 1e3 * c.launch_floor_flops * c.coefficients[2]);
    if (c.tile_rows > 0) fmt::print("          rows priced in whole tiles of {:g}\n", c.tile_rows);
  }
  fmt::print(
      "layer     leave-one-shape-out |error| median {:.1f}%, p90 {:.1f}%; band floor {:.3f} ms, "
      "relative {:.1f}%\n",
      100 * phases.layer_loo_median, 100 * phases.layer_loo_p90, phases.unseen_band.floor_ms,
      100 * phases.unseen_band.relative);
  fmt::print(
      "seen      leave-one-record-out |error| median {:.1f}% with {} shape offsets; band "
      "floor {:.3f} ms, relative {:.1f}%\n",
      100 * phases.seen_loo_median, phases.offsets.size(), phases.seen_band.floor_ms,
      100 * phases.seen_band.relative);
  fmt::print("wrote     {}\n", escape_for_terminal(o.out));
  return kExitOk;
}

int check(const CalibrateOptions& o) {
  const sim::MeasuredProfile profile = sim::load_profile(o.check);
  const sim::CalibratedPhases* phases = profile.calibrated_phases();
  if (phases == nullptr)
    throw ConfigError(o.check,
                      {{"/calibrated_phases", "expected a profile from moesim calibrate"}});
  CalibrateOptions selection = o;
  if (selection.stack.empty()) selection.stack = phases->stack;
  const auto records = select_records(selection);
  check_device(phases->device, records.front().device, o.check, o.force_device);
  const sim::HoldoutResult result = sim::check_calibration(*phases, records);
  const std::string table = sim::holdout_table(result);
  if (!o.table.empty()) write_text_file(o.table, table);
  if (!o.json.empty()) write_text_file(o.json, sim::to_json(result).dump(1) + "\n");
  fmt::print("{}", escape_for_terminal(table, /*keep_newlines=*/true));
  return kExitOk;
}

int cross_check(const CalibrateOptions& o) {
  const auto records = select_records(o);
  // Each round fits half the records: rounds x records bounds the work (docs/limits.md).
  if (static_cast<std::int64_t>(records.size()) * o.rounds > sim::kMaxCrossCheckWork)
    throw ConfigError("--rounds",
                      {{"", fmt::format("expected rounds x records <= {} "
                                        "(docs/limits.md), got {} x {}: fewer rounds",
                                        sim::kMaxCrossCheckWork, o.rounds, records.size())}});
  const auto split = o.cross_check == "shape" ? sim::SplitBy::Shape : sim::SplitBy::Record;
  const sim::CrossCheckResult result = sim::cross_check(records, split, o.seed, o.rounds);
  const std::string table = sim::cross_check_table(result);
  if (!o.table.empty()) write_text_file(o.table, table);
  if (!o.json.empty()) write_text_file(o.json, sim::to_json(result).dump(1) + "\n");
  fmt::print("{}", escape_for_terminal(table, /*keep_newlines=*/true));
  return kExitOk;
}

// The options each mode does not read: refused, not ignored (session 12 found --table and --json
// accepted by a fit that writes neither).
std::vector<UnreadOption> unread_by_mode(const CalibrateOptions& o) {
  const std::string results = "--table and --json take its results";
  const std::string splits = "applies to calibrate --cross-check only (its random splits)";
  if (!o.cross_check.empty())
    return {{"--out", "calibrate --cross-check writes no profile; " + results},
            {"--base", "calibrate --cross-check writes no profile to keep a base's measurements"},
            {"--force-device", "calibrate --cross-check reads no profile to compare devices with"}};
  if (!o.check.empty())
    return {{"--out", "calibrate --check writes no profile; " + results},
            {"--base", "calibrate --check reads the calibrated profile it is given, not a base"},
            {"--rounds", splits},
            {"--seed", splits}};
  const std::string written =
      "is only written by calibrate --check or --cross-check; a fit "
      "writes its profile to --out";
  return {{"--table", written}, {"--json", written}, {"--rounds", splits}, {"--seed", splits}};
}

int dispatch(const CalibrateOptions& o) {
  if (!o.cross_check.empty()) return cross_check(o);
  return o.check.empty() ? calibrate(o) : check(o);
}

}  // namespace

void add_calibrate_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* command = app.add_subcommand(
      "calibrate", "Fit a profile's phase curves to timings recorded on any stack, or --check one");
  command->add_option("timings", o->timings, "calibration files (docs/calibrate.md)")->required();
  command->add_option("--out", o->out, "profile to write (the base profile plus the curves)");
  command->add_option("--stack", o->stack, "use the records of this stack only");
  command
      ->add_option("--base", o->base,
                   "profile whose measurements the calibrated one keeps: h100, h200, a file, or "
                   "auto (by the timings' device)")
      ->capture_default_str();
  auto* check_option =
      command->add_option("--check", o->check,
                          "instead of fitting, predict the timings with this calibrated "
                          "profile");
  command
      ->add_option("--cross-check", o->cross_check,
                   "instead of fitting, fit random halves of the timings (split by shape or by "
                   "record) and predict the other halves")
      ->check(CLI::IsMember({"shape", "record"}))
      ->excludes(check_option);
  command->add_option("--rounds", o->rounds, "with --cross-check: how many random splits")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_option("--seed", o->seed, "with --cross-check: the first split's seed")
      ->capture_default_str();
  command->add_option("--table", o->table,
                      "with --check or --cross-check: also write the table (markdown) here");
  command->add_option("--json", o->json,
                      "with --check or --cross-check: also write the results (JSON) here");
  command->add_flag("--force-device", o->force_device,
                    "accept timings and a profile from different devices");
  command->callback([&action, o, command] {
    const auto unread = first_given(*command, unread_by_mode(*o));
    action = [o, unread] {
      refuse_unread(unread);
      return dispatch(*o);
    };
  });
}

}  // namespace moesim::cli
