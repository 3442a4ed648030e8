// The teaching view: one swimlane per chosen lock or semaphore, showing over
// the last minutes who held it (a bar per holding, coloured by process),
// how long each holder waited before it got it (a thin bar before), and
// force-releases and timeouts (red marks). Built from the primitives'
// history, so it shows hand-offs, contention and starvation at a glance,
// and from the current holder records, so a holding whose acquire event
// has aged out of the history is still drawn, from its acquisition time.
#pragma once

#include <QSet>
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
  };
  // The spans computed for each lane (for tests).
  const QMap<QString, QVector<Span>>& lanes() const { return lanes_; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QStringList keys_;
  QMap<QString, QVector<Span>> lanes_;
  double now_ = 0, window_ = 120;
};

}  // namespace dcview
