// The teaching view: one swimlane per chosen lock or semaphore, showing over
// the last minutes who held it (a bar per holding, coloured by process;
// a SharedLock's readers stacked, its writer across the whole lane),
// how long each holder waited before it got it (a thin bar before), and
// force-releases and timeouts (red marks). Built from the primitives'
// history, so it shows hand-offs, contention and starvation at a glance,
// and from the current holder records, so a holding whose acquire event
// has aged out of the history is still drawn, from its acquisition time.
//
// A key below the lanes maps each process to its colour; hovering a bar
// says who held or waited, for how long. The wheel (or + and -) zooms
// around the pointer, dragging (or the arrow keys) pans back in time, and
// a double-click (or Home) returns to the live, whole window.
#pragma once

#include <QSet>
#include <optional>
#include <utility>
#include <QWidget>

#include "diskcache/inspect.hpp"
#include "monitor_models.hpp"

namespace dcview {

class TimelineView : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineView(QWidget* parent = nullptr);
  // Draws `events` (oldest first) and the current `holdings` (per key) for
  // the lanes in `keys` over the last `window_seconds` before `now` (Unix
  // seconds).
  void show_events(const QVector<diskcache::HistoryEvent>& events, const QStringList& keys, double now,
                   double window_seconds = 120,
                   const QMap<QString, QVector<MonitorModels::Holding>>& holdings = {});

  struct Span {  // one holding (or wait, or mark) in a lane
    double from = 0, to = 0;
    qint64 pid = 0;
    enum Kind { Held, Waited, Mark } kind = Held;
    QString holder;    // the holder's id as history names it (empty: unknown)
    QString what;      // a mark's event: "force-release" or "timeout"
    bool open = false;  // a holding that has not ended
    // A SharedLock's holdings: readers stack beside each other (lighter,
    // outlined); the writer fills the whole lane, alone.
    enum Hold { Sole, Reader, Writer } hold = Sole;
  };
  // The spans computed for each lane (for tests).
  const QMap<QString, QVector<Span>>& lanes() const { return lanes_; }

  // The time shown: [view_start, view_end] (Unix seconds).
  double view_start() const { return view_end() - window_ * zoom_; }
  double view_end() const { return pinned_end_ ? *pinned_end_ : now_; }
  // Zooms by `factor` (< 1 closer) keeping time `at` where it is; pans by
  // `seconds` (> 0 back in time). A view panned back stays where it is
  // while time goes on; live() returns to the whole window, following now.
  void zoom(double factor, double at);
  void pan(double seconds);
  void live();
  // What hovering `point` says (empty over nothing), and the processes the
  // colour key lists, in the order shown.
  QString tooltip_at(QPoint point) const;
  QVector<qint64> legend() const;
  // Where the colour key puts each process's swatch: in rows below the
  // lanes, wrapping at the widget's width (every process shown).
  QVector<std::pair<qint64, QRectF>> legend_swatches() const;
  // Where time `t` of lane `key` is drawn: in its first track of holdings,
  // or on its wait bar (for hovering in tests and tools).
  QPoint point_of(const QString& key, double t, Span::Kind kind) const;
  static QColor colour_of(qint64 pid);

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  // Where things are drawn.
  static constexpr int kLabelWidth = 160, kLaneHeight = 34, kTop = 24;
  static constexpr double kMinZoom = 0.01;       // a hundredth of the window
  static constexpr double kMaxPanWindows = 10;   // how far back (in windows) one can pan
  double x_of(double t) const;
  double time_at(double x) const;
  void set_end(double end);  // pins the view's end (or follows now from `now_` on)
  // The lane's spans, each with the track (row within the lane) it is drawn in.
  QVector<std::pair<Span, int>> placed(const QString& key, int* tracks) const;

  QStringList keys_;
  QMap<QString, QVector<Span>> lanes_;
  double now_ = 0, window_ = 120;
  double zoom_ = 1;                   // a person's view: a fraction of the window
  std::optional<double> pinned_end_;  // and where it ends, when not following now
  double drag_from_x_ = -1;
};

}  // namespace dcview
