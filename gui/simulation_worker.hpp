#pragma once
// Runs sim::simulate off the UI thread (the KDAB Hotspot pattern): a worker QObject lives on its
// own QThread and answers each job with a value result over a queued signal. Every job has an id;
// the runner keeps only the newest, so a result that arrives after a later edit is dropped, and a
// job still running when a newer one (or a cancel) comes in stops at its next layer.
#include <QObject>
#include <QString>
#include <QThread>
#include <atomic>
#include <optional>

#include "sim/report/report.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::gui {

struct SimulationJob {
  quint64 id = 0;
  sim::ScenarioSpec scenario;
  sim::SimulationOverrides overrides;
  bool with_baseline = false;  // also run the scenario's own placement, to compare against
};

struct SimulationResult {
  quint64 id = 0;
  std::optional<sim::Report> report;
  std::optional<sim::Report> baseline;
  QString error;         // ConfigError text, as the CLI prints it
  double elapsed_s = 0;  // wall time of the run(s) on the worker thread
};

class SimulationWorker : public QObject {
  Q_OBJECT
 public:
  explicit SimulationWorker(const std::atomic<quint64>& latest) : latest_(latest) {}

 public Q_SLOTS:
  void run(const moesim::gui::SimulationJob& job);

 Q_SIGNALS:
  void finished(const moesim::gui::SimulationResult& result);

 private:
  const std::atomic<quint64>& latest_;  // the newest job id the runner wants
};

// Owns the thread and the id counter; lives on the UI thread.
class SimulationRunner : public QObject {
  Q_OBJECT
 public:
  explicit SimulationRunner(QObject* parent = nullptr);
  ~SimulationRunner() override;

  // Queues a run and returns its id; every earlier job becomes stale.
  quint64 request(sim::ScenarioSpec scenario, sim::SimulationOverrides overrides,
                  bool with_baseline);
  // Makes the running job (if any) stale: it stops at its next layer and its result is dropped.
  void cancel();
  bool busy() const { return pending_ != 0; }

 Q_SIGNALS:
  void started(quint64 id);
  void finished(const moesim::gui::SimulationResult& result);  // only the newest job's
  void cancelled();
  void queueJob(const moesim::gui::SimulationJob& job);  // to the worker thread

 private:
  void on_worker_finished(const SimulationResult& result);

  QThread thread_;
  std::atomic<quint64> latest_{0};
  quint64 next_id_ = 0;
  quint64 pending_ = 0;  // id of the job whose result is awaited; 0 = idle
};

}  // namespace moesim::gui

Q_DECLARE_METATYPE(moesim::gui::SimulationJob)
Q_DECLARE_METATYPE(moesim::gui::SimulationResult)
