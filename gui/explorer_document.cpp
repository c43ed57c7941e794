#include "gui/explorer_document.hpp"

#include <fmt/format.h>

#include <QUndoCommand>
#include <fstream>
#include <sstream>
#include <utility>

#include "base/config_error.hpp"
#include "sim/routing/trace_replay.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::gui {
namespace {

// One undo step: the placements of every MoE layer before and after an edit.
class PlacementCommand : public QUndoCommand {
 public:
  PlacementCommand(ExplorerDocument& document, std::vector<sim::Placement> before,
                   std::vector<sim::Placement> after, const QString& text)
      : QUndoCommand(text),
        document_(document),
        before_(std::move(before)),
        after_(std::move(after)) {}
  void undo() override { document_.replace_placements(before_); }
  void redo() override { document_.replace_placements(after_); }

 private:
  ExplorerDocument& document_;
  std::vector<sim::Placement> before_;
  std::vector<sim::Placement> after_;
};

QStringList problem_lines(const ConfigError& error) {
  // The CLI prints "error: " + what(); the window lists the same lines.
  return QString::fromStdString(error.what()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool ExplorerDocument::holds(int layer, SlotRef at) const {
  if (layer < 0 || layer >= moe_layers()) return false;
  const auto& slots = placements_[layer].slots;
  return at.gpu >= 0 && at.gpu < static_cast<int>(slots.size()) && at.slot >= 0 &&
         at.slot < static_cast<int>(slots[at.gpu].size());
}

ExplorerDocument::ExplorerDocument(QObject* parent) : QObject(parent) {}

bool ExplorerDocument::load(const std::string& name_or_path) {
  try {
    sim::load_scenario(name_or_path);  // the CLI's own checks and messages, file errors included
  } catch (const ConfigError& error) {
    set_problems(problem_lines(error));
    return false;
  }
  trace_path_.clear();
  popularity_.clear();
  if (const auto* builtin = sim::find_builtin_scenario(name_or_path))
    return adopt(std::string(builtin->json), std::string(builtin->name));
  return adopt(read_file(name_or_path), name_or_path);
}

bool ExplorerDocument::set_field(const std::string& pointer, const nlohmann::ordered_json& value) {
  nlohmann::ordered_json edited = json_;
  try {
    edited[nlohmann::ordered_json::json_pointer(pointer)] = value;
  } catch (const nlohmann::json::exception& error) {
    set_problems(
        {QString::fromStdString(fmt::format("{}: {}: {}", source_, pointer, error.what()))});
    return false;
  }
  json_ = std::move(edited);
  return adopt(json_.dump(2), source_);
}

sim::ScenarioSpec ExplorerDocument::spec_for_runs(const sim::ScenarioSpec& spec) const {
  auto runs = spec;
  if (const auto model = sim::choice_from_name<sim::NetworkModelKind>(network_model_))
    runs.network.model = *model;
  if (const auto choice = sim::choice_from_name<sim::ReplicaChoice>(replica_choice_))
    runs.policy.replica_choice = *choice;
  return runs;
}

// "" (the scenario's own) or a name of the choice's table; anything else is refused.
template <typename Enum>
bool ExplorerDocument::change_run_setting(std::string_view field, std::string& setting,
                                          const std::string& value) {
  if (!value.empty() && !sim::choice_from_name<Enum>(value)) {
    set_problems({QString::fromStdString(
        fmt::format("{}: expected {}, got \"{}\"", field, sim::choice_list<Enum>(), value))});
    return false;
  }
  setting = value;
  if (!has_scenario()) return true;
  run_scenario_ = spec_for_runs(*scenario_);
  Q_EMIT runSettingsChanged();
  return true;
}

bool ExplorerDocument::set_network_model(const std::string& model) {
  return change_run_setting<sim::NetworkModelKind>("/network/model", network_model_, model);
}

bool ExplorerDocument::set_replica_choice(const std::string& choice) {
  return change_run_setting<sim::ReplicaChoice>("/policy/replica_choice", replica_choice_, choice);
}

bool ExplorerDocument::load_trace(const std::string& path) {
  if (!has_scenario()) {
    set_problems({tr("Open a scenario before its routing trace")});
    return false;
  }
  std::vector<std::vector<double>> popularity;
  try {
    popularity = sim::trace_expert_popularity(path, scenario_->model, {.repeat_layers = true});
  } catch (const ConfigError& error) {
    set_problems(problem_lines(error));
    return false;
  } catch (const std::exception& error) {
    set_problems({QString::fromStdString(fmt::format("{}: {}", path, error.what()))});
    return false;
  }
  auto previous_path = std::move(trace_path_);
  auto previous = std::move(popularity_);
  trace_path_ = path;
  popularity_ = std::move(popularity);
  if (adopt(json_.dump(2), source_)) return true;
  trace_path_ = std::move(previous_path);
  popularity_ = std::move(previous);
  return false;
}

bool ExplorerDocument::adopt(const std::string& text, const std::string& source) {
  sim::ScenarioSpec spec, run_spec;
  std::vector<std::vector<double>> loads;
  std::vector<sim::Placement> placements;
  try {
    json_ = nlohmann::ordered_json::parse(text);
    source_ = source;
    spec = sim::parse_scenario(text, source);
    run_spec = spec_for_runs(spec);
    sim::SimulationOverrides overrides;
    overrides.expert_popularity = popularity_;
    loads = sim::expert_loads(spec, overrides);
    placements = sim::scenario_placements(spec, loads);
  } catch (const ConfigError& error) {
    set_problems(problem_lines(error));
    return false;
  } catch (const std::exception& error) {
    set_problems({QString::fromStdString(fmt::format("{}: {}", source, error.what()))});
    return false;
  }
  scenario_ = std::move(spec);
  run_scenario_ = std::move(run_spec);
  loads_ = std::move(loads);
  baseline_ = placements;
  placements_ = std::move(placements);
  undo_stack_.clear();
  set_problems({});
  Q_EMIT scenarioChanged();
  return true;
}

void ExplorerDocument::set_problems(QStringList problems) {
  problems_ = std::move(problems);
  Q_EMIT problemsChanged();
}

bool ExplorerDocument::push_layer_edit(int layer, sim::Placement edited, const QString& text) {
  auto after = placements_;
  after[layer] = std::move(edited);
  undo_stack_.push(new PlacementCommand(*this, placements_, std::move(after), text));
  return true;
}

bool ExplorerDocument::move_expert(int layer, SlotRef from, SlotRef to) {
  if (!holds(layer, from) || !holds(layer, to)) return false;
  auto edited = placements_[layer];
  const int expert = edited.slots[from.gpu][from.slot];
  const bool swap = edited.slots[to.gpu][to.slot] != kFreeSlot;
  if (!gui::move_expert(edited, from, to)) return false;
  return push_layer_edit(layer, std::move(edited),
                         tr("%1 expert %2 to GPU %3 (layer %4)")
                             .arg(swap ? tr("Swap") : tr("Move"))
                             .arg(expert)
                             .arg(to.gpu)
                             .arg(layer));
}

bool ExplorerDocument::replicate_expert(int layer, SlotRef from, SlotRef to) {
  if (!holds(layer, from) || !holds(layer, to)) return false;
  auto edited = placements_[layer];
  const int expert = edited.slots[from.gpu][from.slot];
  if (!gui::replicate_expert(edited, from, to)) return false;
  return push_layer_edit(
      layer, std::move(edited),
      tr("Replicate expert %1 to GPU %2 (layer %3)").arg(expert).arg(to.gpu).arg(layer));
}

bool ExplorerDocument::replicate_to_least_loaded(int layer, SlotRef from) {
  if (!holds(layer, from)) return false;
  const int expert = placements_[layer].slots[from.gpu][from.slot];
  SlotRef to;
  if (expert == kFreeSlot || !find_replica_slot(placements_[layer], expert, loads_[layer], to))
    return false;
  return replicate_expert(layer, from, to);
}

bool ExplorerDocument::remove_replica(int layer, SlotRef at) {
  if (!holds(layer, at)) return false;
  auto edited = placements_[layer];
  const int expert = edited.slots[at.gpu][at.slot];
  if (!gui::remove_replica(edited, at)) return false;
  return push_layer_edit(
      layer, std::move(edited),
      tr("Remove replica of expert %1 from GPU %2 (layer %3)").arg(expert).arg(at.gpu).arg(layer));
}

bool ExplorerDocument::apply_strategy(const std::string& strategy) {
  if (!has_scenario()) return false;
  const auto chosen = sim::choice_from_name<sim::PlacementStrategy>(strategy);
  if (!chosen) {
    set_problems({QString::fromStdString(
        fmt::format("unknown placement strategy \"{}\"; expected {}", strategy,
                    sim::choice_list<sim::PlacementStrategy>()))});
    return false;
  }
  std::vector<sim::Placement> after;
  try {
    for (const auto& load : loads_) after.push_back(place_layer(*scenario_, *chosen, load));
  } catch (const ConfigError& error) {
    set_problems(problem_lines(error));
    return false;
  } catch (const std::exception& error) {
    set_problems({QString::fromStdString(fmt::format("{}: {}", strategy, error.what()))});
    return false;
  }
  undo_stack_.push(new PlacementCommand(*this, placements_, std::move(after),
                                        tr("Apply %1").arg(QString::fromStdString(strategy))));
  return true;
}

void ExplorerDocument::replace_placements(std::vector<sim::Placement> placements) {
  placements_ = std::move(placements);
  Q_EMIT placementsChanged();
}

}  // namespace moesim::gui
