// moesim-gui [SCENARIO] | moesim-gui --screenshot FILE [SCENARIO]: the placement explorer.
#include <QApplication>
#include <QEventLoop>
#include <QTimer>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gui/main_window.hpp"
#include "gui/results_panel.hpp"

int main(int argc, char** argv) {
  QString screenshot;
  int tab = 0;
  std::string trace;
  std::string scenario;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--screenshot" && i + 1 < argc) {
      screenshot = QString::fromLocal8Bit(argv[++i]);
    } else if (arg == "--trace" && i + 1 < argc) {
      trace = argv[++i];
    } else if (arg == "--tab" && i + 1 < argc) {
      tab = std::atoi(argv[++i]);
    } else if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: moesim-gui [--trace FILE] [SCENARIO]\n"
          "       moesim-gui --screenshot FILE [--tab N] [--trace FILE] [SCENARIO]\n"
          "  --tab N  results tab to show: 0 per-GPU load, 1 phases, 2 heat map, 3 timeline,\n"
          "           4 links on the topology\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-' && arg != "-") {
      std::fprintf(stderr, "error: unknown option %s (moesim-gui --help)\n", arg.c_str());
      return 2;
    } else {
      scenario = arg;
    }
  }
  // A screenshot needs no display.
  if (!screenshot.isEmpty() && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setStyle(QStringLiteral("Fusion"));
  moesim::gui::MainWindow window;
  window.resize(1600, 1000);
  window.results()->show_tab(tab);
  if (screenshot.isEmpty()) {
    window.show();
    if (!scenario.empty() && window.load(scenario) && !trace.empty()) window.load_trace(trace);
    return QApplication::exec();
  }
  window.show();
  QEventLoop loop;
  QObject::connect(&window, &moesim::gui::MainWindow::resultShown, &loop, &QEventLoop::quit);
  QTimer::singleShot(120'000, &loop, &QEventLoop::quit);
  if (!scenario.empty() && window.load(scenario)) {
    if (!trace.empty()) window.load_trace(trace);  // the first run goes stale: one result comes
    loop.exec();
  }
  QApplication::processEvents();
  if (!window.grab().save(screenshot, "PNG")) {
    std::fprintf(stderr, "error: could not write %s\n", screenshot.toLocal8Bit().constData());
    return 3;
  }
  return window.current_report() || scenario.empty() ? 0 : 2;
}
