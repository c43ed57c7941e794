#pragma once
// The explorer's state, apart from any widget: the scenario as edited JSON and as the last spec
// that validated, each MoE layer's expert loads, the baseline (scenario strategy) and current
// placements, the problems of the last load or edit, and the undo stack of placement edits.
#include <QObject>
#include <QStringList>
#include <QUndoStack>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gui/placement_edit.hpp"
#include "sim/placement/placement.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::gui {

class ExplorerDocument : public QObject {
  Q_OBJECT
 public:
  explicit ExplorerDocument(QObject* parent = nullptr);

  // A built-in scenario name or a file. On a ConfigError the previous scenario stays and
  // problems() lists the error exactly as `moesim validate` prints it.
  bool load(const std::string& name_or_path);
  // Sets the JSON value at `pointer` ("/parallelism/micro_batches") and revalidates; a valid
  // scenario replaces the current one (placements reset, undo history cleared).
  bool set_field(const std::string& pointer, const nlohmann::ordered_json& value);
  // Replays a routing trace (any format `moesim trace import` reads) instead of the scenario's
  // generator; a trace with fewer layers than the model tiles over them. Kept across field edits,
  // dropped by load(). On a ConfigError nothing changes and problems() says why.
  bool load_trace(const std::string& path);
  const std::string& trace() const { return trace_path_; }
  // Per MoE layer popularity from the trace; empty = the scenario's generator.
  const std::vector<std::vector<double>>& popularity() const { return popularity_; }

  // The network model the runs use ("flow" plays every all-to-all over the topology; "analytic"
  // is fast enough to re-simulate on every edit). "" = the scenario's own. Placements and history
  // stay; problems() says why a name was refused.
  bool set_network_model(const std::string& model);
  const std::string& network_model() const { return network_model_; }
  // Which replica of a replicated expert token copies reach in runs (policy.replica_choice):
  // "round-robin", "same-node-first", "least-loaded", or "" = the scenario's own.
  bool set_replica_choice(const std::string& choice);
  const std::string& replica_choice() const { return replica_choice_; }
  // The scenario as runs take it: scenario() with the network model and replica choice above.
  const sim::ScenarioSpec& run_scenario() const { return *run_scenario_; }

  bool has_scenario() const { return scenario_.has_value(); }
  const sim::ScenarioSpec& scenario() const { return *scenario_; }
  const nlohmann::ordered_json& scenario_json() const { return json_; }
  const std::string& source() const { return source_; }
  int moe_layers() const { return static_cast<int>(loads_.size()); }
  // Expected tokens per logical expert, per MoE layer (one EP group, one micro-batch).
  const std::vector<std::vector<double>>& loads() const { return loads_; }
  const std::vector<sim::Placement>& placements() const { return placements_; }
  const std::vector<sim::Placement>& baseline_placements() const { return baseline_; }
  const QStringList& problems() const { return problems_; }
  QUndoStack* undo_stack() { return &undo_stack_; }

  // Edits of one MoE layer; each is one undo step. False (and nothing pushed) when refused.
  bool move_expert(int layer, SlotRef from, SlotRef to);
  bool replicate_expert(int layer, SlotRef from, SlotRef to);
  bool replicate_to_least_loaded(int layer, SlotRef from);
  bool remove_replica(int layer, SlotRef at);
  // Re-places every MoE layer with `strategy` (one undo step); false and problems() on error.
  bool apply_strategy(const std::string& strategy);

  // Whether `at` names a slot of that MoE layer's placement.
  bool holds(int layer, SlotRef at) const;

  // For the undo commands: installs placements without pushing anything.
  void replace_placements(std::vector<sim::Placement> placements);

 Q_SIGNALS:
  void scenarioChanged();     // a new valid scenario: placements, loads and baseline all new
  void runSettingsChanged();  // same scenario and placements, run another way (network model)
  void placementsChanged();   // an edit, undo or redo
  void problemsChanged();

 private:
  bool adopt(const std::string& text, const std::string& source);
  sim::ScenarioSpec spec_for_runs(const sim::ScenarioSpec& spec) const;
  // Sets one run setting; re-parses the run scenario, or restores it and reports why not.
  template <typename Enum>
  bool change_run_setting(std::string_view field, std::string& setting, const std::string& value);
  void set_problems(QStringList problems);
  bool push_layer_edit(int layer, sim::Placement edited, const QString& text);

  nlohmann::ordered_json json_;
  std::string source_;
  std::optional<sim::ScenarioSpec> scenario_;
  std::optional<sim::ScenarioSpec> run_scenario_;
  std::string network_model_ = "analytic";
  std::string replica_choice_;
  std::string trace_path_;
  std::vector<std::vector<double>> popularity_;
  std::vector<std::vector<double>> loads_;
  std::vector<sim::Placement> baseline_;
  std::vector<sim::Placement> placements_;
  QStringList problems_;
  QUndoStack undo_stack_;
};

}  // namespace moesim::gui
