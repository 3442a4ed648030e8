#include "timeline.hpp"

#include <QPainter>
#include <algorithm>

#include "snapshot.hpp"

namespace dcview {

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) { setMinimumHeight(200); }

void TimelineView::show_events(const QVector<diskcache::HistoryEvent>& events, const QStringList& keys, double now,
                               double window_seconds, const QMap<QString, QVector<MonitorModels::Holding>>& holdings) {
  keys_ = keys;
  now_ = now;
  window_ = window_seconds;
  lanes_.clear();
  const double start = now - window_seconds;
  // Open holdings per lane and holder: the first acquire opens one, the
  // release that brings the holder's depth (RLock re-entry, permits) back to
  // zero closes it; a force-release closes it at once.
  struct Open {
    Span span;
    int depth = 0;
  };
  QMap<QString, QMap<QString, Open>> open;
  const double history_start = events.isEmpty() ? start : events.front().at;
  for (const auto& e : events) {
    const QString key = key_text(e.key);
    if (!keys.contains(key)) continue;
    // A force-release names the holder with its slot ("id/1"): match on the id.
    const QString holder = QString::fromStdString(e.holder).section('/', 0, 0);
    auto& lane = lanes_[key];
    auto& holding = open[key];
    if (e.event == "acquire") {
      if (e.waited > 0) lane.push_back({e.at - e.waited, e.at, e.pid, Span::Waited});
      Open& o = holding[holder];
      if (o.depth++ == 0) o.span = {e.at, e.at, e.pid, Span::Held};
    } else if (e.event == "release" || e.event == "force-release") {
      auto it = holding.find(holder);
      const bool force = e.event == "force-release";
      if (it == holding.end()) {  // acquired before the history we have
        if (!force) lane.push_back({history_start, e.at, e.pid, Span::Held});
      } else if (force || --it->depth <= 0) {
        lane.push_back({it->span.from, e.at, it->span.pid, Span::Held});
        holding.erase(it);
      }
      if (force) lane.push_back({e.at, e.at, e.pid, Span::Mark});
    } else if (e.event == "timeout") {
      lane.push_back({e.at - e.waited, e.at, e.pid, Span::Waited});
      lane.push_back({e.at, e.at, e.pid, Span::Mark});
    }
  }
  // Current holdings: from their records, or from their acquire event when
  // it is still here (one span either way).
  for (auto lane = holdings.begin(); lane != holdings.end(); ++lane) {
    if (!keys.contains(lane.key())) continue;
    auto& holding = open[lane.key()];
    for (const auto& h : lane.value())
      if (!holding.contains(h.holder)) holding[h.holder].span = {h.since, h.since, h.pid, Span::Held};
  }
  for (auto lane = open.begin(); lane != open.end(); ++lane)
    for (const Open& o : lane.value()) lanes_[lane.key()].push_back({o.span.from, now, o.span.pid, Span::Held});
  for (auto& lane : lanes_) {  // keep what overlaps the window
    QVector<Span> kept;
    for (const Span& s : lane)
      if (s.to >= start) kept.push_back(s);
    lane = kept;
  }
  update();
}

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  const int label_width = 160, lane_height = 34, top = 24;
  const double width = std::max(1, this->width() - label_width - 10);
  auto x_of = [&](double t) { return label_width + (t - (now_ - window_)) / window_ * width; };
  p.setPen(palette().text().color());
  if (keys_.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("Tick locks or semaphores on the left to draw their swimlanes."));
    return;
  }
  for (int s = 0; s <= 4; ++s) {  // time axis
    const double t = now_ - window_ + window_ * s / 4;
    p.drawText(QPointF(x_of(t) - 20, 14), QString("-%1 s").arg(window_ - window_ * s / 4, 0, 'f', 0));
  }
  for (int i = 0; i < keys_.size(); ++i) {
    const int y = top + i * lane_height;
    p.setPen(palette().text().color());
    p.drawText(QRect(4, y, label_width - 8, lane_height - 4), Qt::AlignVCenter | Qt::AlignLeft, keys_[i]);
    p.setPen(palette().mid().color());
    p.drawLine(label_width, y + lane_height - 2, this->width(), y + lane_height - 2);
    // Overlapping holdings (semaphore permits) go to separate tracks.
    QVector<Span> spans = lanes_.value(keys_[i]);
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
    QVector<double> track_end;
    QVector<int> track_of(spans.size(), 0);
    for (int k = 0; k < spans.size(); ++k) {
      if (spans[k].kind != Span::Held) continue;
      int t = 0;
      while (t < track_end.size() && track_end[t] > spans[k].from) ++t;
      if (t == track_end.size()) track_end.push_back(0);
      track_end[t] = spans[k].to;
      track_of[k] = t;
    }
    const double track_height = (lane_height - 10.0) / std::max<qsizetype>(1, track_end.size());
    for (int k = 0; k < spans.size(); ++k) {
      const Span& s = spans[k];
      const double x0 = std::max<double>(label_width, x_of(s.from)), x1 = std::max(x0 + 1.5, x_of(s.to));
      const QColor colour = QColor::fromHsv(static_cast<int>((s.pid * 47) % 360), 160, 210);
      if (s.kind == Span::Held)
        p.fillRect(QRectF(x0, y + 4 + track_of[k] * track_height, x1 - x0, track_height - 1), colour);
      else if (s.kind == Span::Waited)
        p.fillRect(QRectF(x0, y + lane_height - 7, x1 - x0, 2), colour.darker(150));
      else
        p.fillRect(QRectF(x0 - 1.5, y + 1, 3, lane_height - 6), Qt::red);
    }
  }
  p.setPen(palette().text().color());
  p.drawText(QRectF(label_width, top + keys_.size() * lane_height + 8, width, 40), Qt::AlignLeft | Qt::TextWordWrap,
             tr("bars: holdings, one colour per process (stacked when several hold permits); "
                "thin lines: time spent waiting; red: force-release or timeout"));
}

}  // namespace dcview
