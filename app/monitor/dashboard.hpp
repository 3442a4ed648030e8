// The Overview tab as a dashboard: tiles with the figures an operator reads
// first (locks held and stale, saturated semaphores, processes waiting,
// averagers, GPU throughput now, items and volume), the alerts of the last
// snapshot (each jumps to its row when activated), and the cache's facts.
#pragma once

#include <QMap>
#include <QWidget>

#include "alerts.hpp"

class QFormLayout;
class QLabel;
class QListWidget;
class QProgressBar;
class QSpinBox;

namespace dcview {

class DashboardView : public QWidget {
  Q_OBJECT
 public:
  explicit DashboardView(QWidget* parent = nullptr);

  // Shows `snapshot`; `gpu_rate` is the GPU throughput between the last two
  // snapshots (bytes per second, all offloaders and directions), if known.
  void show_snapshot(const Snapshot& snapshot, std::optional<double> gpu_rate);
  // A snapshot that failed: the tiles keep their figures, the error is the
  // first alert.
  void show_error(const QString& error);

  AlertThresholds thresholds() const;
  // For tests and for the window: what is shown.
  QListWidget* alerts() const { return alerts_; }
  QString tile_text(const QString& title) const;  // "<figure> | <detail>"

 signals:
  // An alert or a tile was activated: show `tab`, and the row `row_key`
  // in it when not empty.
  void jump_requested(const QString& tab, const QString& row_key);

 private:
  class Tile;
  Tile* add_tile(const QString& title, const QString& tab);
  void set_tile(const QString& title, const QString& figure, const QString& detail, bool alarming = false);

  QMap<QString, Tile*> tiles_;
  QListWidget* alerts_ = nullptr;
  QSpinBox* wait_threshold_ = nullptr;
  QProgressBar* fill_ = nullptr;  // volume against the size limit
  QMap<QString, QLabel*> facts_;
};

}  // namespace dcview
