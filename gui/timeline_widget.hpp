#pragma once
// One step's schedule on one GPU, drawn from the same events as the Perfetto export
// (sim::report_to_timeline): a lane per stream (compute, dispatch, combine), a box per phase; a
// training step adds its `training step` track (its pipeline stage's schedule, then the gradient,
// optimizer and weight-gather phases).
#include <QPainter>
#include <QString>
#include <QWidget>
#include <vector>

#include "sim/report/report.hpp"

namespace moesim::gui {

class TimelineWidget : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineWidget(QWidget* parent = nullptr);
  void set_report(const sim::Report& report);
  void clear();

  struct Span {
    int lane = 0;
    double start_us = 0;
    double duration_us = 0;
    QString name;  // "L12 dispatch"
  };
  const std::vector<Span>& spans() const { return spans_; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  // A row of colour keys at height `y`, each name's colour as `prefix` + name has it.
  void draw_legend(QPainter& painter, const std::vector<const char*>& names, int y,
                   const char* prefix) const;
  std::vector<Span> spans_;
  double end_us_ = 0;
  double step_ms_ = 0;
  int gpu_ = 0;            // the GPU drawn
  bool training_ = false;  // a training step: a fourth lane, its step track
};

}  // namespace moesim::gui
