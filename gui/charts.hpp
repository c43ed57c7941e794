#pragma once
// Charts drawn from value results (no state): per-GPU load bars and the per-layer phase breakdown,
// plus a layer x expert heat map widget.
#include <QChart>
#include <QImage>
#include <QWidget>
#include <vector>

#include "sim/report/report.hpp"

namespace moesim::gui {

// Tokens per GPU in one layer (one EP group, one micro-batch): current beside baseline.
QChart* make_gpu_load_chart(const std::vector<double>& current, const std::vector<double>& baseline,
                            int layer);
// Per block: dense, gate, dispatch, experts and combine of one micro-batch, stacked, with the
// block's total over the step (all micro-batches, after overlap) as a line; milliseconds.
QChart* make_phase_chart(const sim::Report& report);

// Tokens per expert (columns) for every MoE layer (rows), coloured on one scale for the whole map.
class HeatMapWidget : public QWidget {
  Q_OBJECT
 public:
  explicit HeatMapWidget(QWidget* parent = nullptr);
  void set_report(const sim::Report& report);
  void clear();
  void set_selected_layer(int moe_layer);
  const QImage& image() const { return image_; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;  // one pixel per (MoE layer, expert)
  int first_moe_block_ = 0;
  int selected_layer_ = -1;
  double max_tokens_ = 0;
};

}  // namespace moesim::gui
