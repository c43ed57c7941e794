#include "gui/simulation_worker.hpp"

#include <chrono>
#include <exception>

#include "base/config_error.hpp"

namespace moesim::gui {
namespace {

// Thrown from the progress callback to abandon a run nobody waits for any more.
struct Abandoned {};

}  // namespace

void SimulationWorker::run(const SimulationJob& job) {
  SimulationResult result;
  result.id = job.id;
  if (job.id != latest_.load()) return;  // superseded while queued: not worth starting
  const auto start = std::chrono::steady_clock::now();
  const auto progress = [&](int, int) {
    if (job.id != latest_.load()) throw Abandoned{};
  };
  try {
    result.report = sim::simulate(job.scenario, progress, job.overrides);
    if (job.with_baseline) {  // the same routing on the scenario's own placement
      sim::SimulationOverrides baseline;
      baseline.expert_popularity = job.overrides.expert_popularity;
      result.baseline = sim::simulate(job.scenario, progress, baseline);
    }
  } catch (const Abandoned&) {
    return;
  } catch (const ConfigError& error) {
    result.report.reset();
    result.error = QString::fromStdString(error.what());
  } catch (const std::exception& error) {
    result.report.reset();
    result.error = QString::fromStdString(error.what());
  }
  result.elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Q_EMIT finished(result);
}

SimulationRunner::SimulationRunner(QObject* parent) : QObject(parent) {
  qRegisterMetaType<SimulationJob>();
  qRegisterMetaType<SimulationResult>();
  auto* worker = new SimulationWorker(latest_);
  worker->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker, &QObject::deleteLater);
  connect(this, &SimulationRunner::queueJob, worker, &SimulationWorker::run, Qt::QueuedConnection);
  connect(worker, &SimulationWorker::finished, this, &SimulationRunner::on_worker_finished,
          Qt::QueuedConnection);
  thread_.setObjectName(QStringLiteral("moesim simulation"));
  thread_.start();
}

SimulationRunner::~SimulationRunner() {
  latest_.store(0);  // the running job stops at its next layer
  thread_.quit();
  thread_.wait();
}

quint64 SimulationRunner::request(sim::ScenarioSpec scenario, sim::SimulationOverrides overrides,
                                  bool with_baseline) {
  SimulationJob job{++next_id_, std::move(scenario), std::move(overrides), with_baseline};
  latest_.store(job.id);
  pending_ = job.id;
  Q_EMIT started(job.id);
  Q_EMIT queueJob(job);
  return job.id;
}

void SimulationRunner::cancel() {
  if (pending_ == 0) return;
  latest_.store(0);
  pending_ = 0;
  Q_EMIT cancelled();
}

void SimulationRunner::on_worker_finished(const SimulationResult& result) {
  if (result.id != pending_) return;  // stale: a newer job or a cancel came after it
  pending_ = 0;
  Q_EMIT finished(result);
}

}  // namespace moesim::gui
