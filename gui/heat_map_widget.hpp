#pragma once
// The layer x expert heat map of a report, on sim/draw's conventions (heatmap.hpp): a log colour
// scale centred on each layer's mean (blue below, white at it, red above) spanning the largest
// ratio, zero load in its own grey; a colour bar in powers of two; MoE-layer and expert ticks
// every 1, 2 or 5 x 10^k rows/columns so labels never collide; the selected layer framed.
#include <QColor>
#include <QImage>
#include <QRect>
#include <QWidget>

#include "sim/report/report.hpp"

namespace moesim::gui {

class HeatMapWidget : public QWidget {
  Q_OBJECT
 public:
  explicit HeatMapWidget(QWidget* parent = nullptr);
  void set_report(const sim::Report& report);
  void clear();
  void set_selected_layer(int moe_layer);

  const QImage& image() const { return image_; }  // one pixel per (MoE layer, expert)
  double span_log2() const { return span_log2_; }
  // Where the map and the colour bar sit at the current size, and the tick steps that fit.
  struct Layout {
    QRect map;
    QRect bar;
    int layer_step = 1;
    int expert_step = 1;
    int bar_step = 1;  // powers of two between colour-bar labels
  };
  Layout layout() const;

  // The colour of load / layer mean `ratio` on a scale of 2^-span .. 2^span (as
  // sim::log_ratio_colour); zero load is kZeroLoad.
  static QColor ratio_colour(double ratio, double span_log2);
  static inline const QColor kZeroLoad{150, 150, 150};
  // The smallest 1, 2 or 5 x 10^k items whose pixels reach `min_pixels` (as sim::nice_tick_step).
  static int tick_step(double pixels_per_item, double min_pixels);

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  void draw_axes(QPainter& painter, const Layout& l) const;
  void draw_colour_bar(QPainter& painter, const Layout& l) const;

  QImage image_;
  int first_moe_block_ = 0;
  int selected_layer_ = -1;
  double span_log2_ = 1;
};

}  // namespace moesim::gui
