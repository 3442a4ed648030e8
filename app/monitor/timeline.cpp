#include "timeline.hpp"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "snapshot.hpp"

namespace dcview {
namespace {

using Span = TimelineView::Span;

Span make_span(double from, double to, qint64 pid, Span::Kind kind, const QString& holder, const QString& what = {},
               bool open = false, Span::Hold hold = Span::Sole) {
  return {from, to, pid, kind, holder, what, open, hold};
}

Span::Hold hold_of(diskcache::PrimitiveKind kind, bool shared) {
  if (kind != diskcache::PrimitiveKind::SharedLock) return Span::Sole;
  return shared ? Span::Reader : Span::Writer;
}

}  // namespace

TimelineView::TimelineView(QWidget* parent) : QWidget(parent) {
  setMinimumHeight(200);
  setMouseTracking(false);
  setFocusPolicy(Qt::StrongFocus);  // + - arrows Home
  setToolTip(" ");                  // tooltips come from event()
}

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
    const Span::Hold hold = hold_of(e.kind, e.event.ends_with("-shared"));
    if (e.event == "acquire" || e.event == "acquire-shared") {
      if (e.waited > 0) lane.push_back(make_span(e.at - e.waited, e.at, e.pid, Span::Waited, holder));
      Open& o = holding[holder];
      if (o.depth++ == 0) o.span = make_span(e.at, e.at, e.pid, Span::Held, holder, {}, false, hold);
    } else if (e.event == "release" || e.event == "release-shared" || e.event == "force-release") {
      auto it = holding.find(holder);
      const bool force = e.event == "force-release";
      if (it == holding.end()) {  // acquired before the history we have
        if (!force) lane.push_back(make_span(history_start, e.at, e.pid, Span::Held, holder, {}, false, hold));
      } else if (force || --it->depth <= 0) {
        lane.push_back(make_span(it->span.from, e.at, it->span.pid, Span::Held, holder, {}, false, it->span.hold));
        holding.erase(it);
      }
      if (force) lane.push_back(make_span(e.at, e.at, e.pid, Span::Mark, holder, "force-release"));
    } else if (e.event == "timeout") {
      lane.push_back(make_span(e.at - e.waited, e.at, e.pid, Span::Waited, holder));
      lane.push_back(make_span(e.at, e.at, e.pid, Span::Mark, holder, "timeout"));
    }
  }
  // Current holdings: from their records, or from their acquire event when
  // it is still here (one span either way).
  for (auto lane = holdings.begin(); lane != holdings.end(); ++lane) {
    if (!keys.contains(lane.key())) continue;
    auto& holding = open[lane.key()];
    for (const auto& h : lane.value())
      if (!holding.contains(h.holder))
        holding[h.holder].span =
            make_span(h.since, h.since, h.pid, Span::Held, h.holder, {}, false, hold_of(h.kind, h.shared));
  }
  for (auto lane = open.begin(); lane != open.end(); ++lane)
    for (const Open& o : lane.value())
      lanes_[lane.key()].push_back(
          make_span(o.span.from, now, o.span.pid, Span::Held, o.span.holder, {}, true, o.span.hold));
  for (auto& lane : lanes_) {  // keep what a person can pan to
    QVector<Span> kept;
    for (const Span& s : lane)
      if (s.to >= start - kMaxPanWindows * window_seconds) kept.push_back(s);
    lane = kept;
  }
  update();
}

QColor TimelineView::colour_of(qint64 pid) { return QColor::fromHsv(static_cast<int>((pid * 47) % 360), 160, 210); }

double TimelineView::x_of(double t) const {
  const double width = std::max(1, this->width() - kLabelWidth - 10);
  return kLabelWidth + (t - view_start()) / (view_end() - view_start()) * width;
}

double TimelineView::time_at(double x) const {
  const double width = std::max(1, this->width() - kLabelWidth - 10);
  return view_start() + (x - kLabelWidth) / width * (view_end() - view_start());
}

void TimelineView::zoom(double factor, double at) {
  const double old_span = view_end() - view_start();
  const double fraction = old_span > 0 ? std::clamp((at - view_start()) / old_span, 0.0, 1.0) : 1.0;
  zoom_ = std::clamp(zoom_ * factor, kMinZoom, 1.0);
  // Keep `at` under the pointer: the new view starts at at - fraction * span.
  const double span = window_ * zoom_;
  set_end(at - fraction * span + span);
}

void TimelineView::pan(double seconds) { set_end(view_end() - seconds); }

void TimelineView::set_end(double end) {
  if (end >= now_) pinned_end_.reset();  // back to following now
  else pinned_end_ = std::max(end, now_ - kMaxPanWindows * window_);
  update();
}

void TimelineView::live() {
  zoom_ = 1;
  pinned_end_.reset();
  update();
}

QVector<std::pair<TimelineView::Span, int>> TimelineView::placed(const QString& key, int* tracks) const {
  // Overlapping holdings (semaphore permits) go to separate tracks.
  QVector<Span> spans = lanes_.value(key);
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
  QVector<double> track_end;
  QVector<std::pair<Span, int>> out;
  for (const Span& s : spans) {
    int t = 0;
    if (s.kind == Span::Held && s.hold != Span::Writer) {  // a writer is drawn across every track
      while (t < track_end.size() && track_end[t] > s.from) ++t;
      if (t == track_end.size()) track_end.push_back(0);
      track_end[t] = s.to;
    }
    out.push_back({s, t});
  }
  *tracks = std::max<int>(1, track_end.size());
  return out;
}

QVector<qint64> TimelineView::legend() const {
  QVector<qint64> pids;
  for (const QString& key : keys_)
    for (const Span& s : lanes_.value(key))
      if (s.to >= view_start() && s.from <= view_end() && s.kind != Span::Mark && !pids.contains(s.pid))
        pids.push_back(s.pid);
  std::sort(pids.begin(), pids.end());
  return pids;
}

QVector<std::pair<qint64, QRectF>> TimelineView::legend_swatches() const {
  QVector<std::pair<qint64, QRectF>> out;
  const QFontMetrics metrics = fontMetrics();
  double x = kLabelWidth, y = kTop + keys_.size() * kLaneHeight + 8;
  for (qint64 pid : legend()) {  // as many rows as it takes
    const double w = metrics.horizontalAdvance(QString("pid %1").arg(pid)) + 26;
    if (x + w > width() && x > kLabelWidth) {
      x = kLabelWidth;
      y += 18;
    }
    out.push_back({pid, QRectF(x, y + 3, 14, 10)});
    x += w;
  }
  return out;
}

QString TimelineView::tooltip_at(QPoint point) const {
  const int lane = (point.y() - kTop) / kLaneHeight;
  if (point.y() < kTop || lane >= keys_.size() || point.x() < kLabelWidth) return {};
  const double t = time_at(point.x());
  const double slack = (view_end() - view_start()) / std::max(1, width()) * 3;  // 3 px either side
  const int y_in_lane = point.y() - kTop - lane * kLaneHeight;
  int tracks = 1;
  QStringList lines;
  for (const auto& [s, track] : placed(keys_[lane], &tracks)) {
    if (t < s.from - slack || t > s.to + slack) continue;
    const QString who = QString("pid %1%2").arg(s.pid).arg(s.holder.isEmpty() ? QString() : " (" + s.holder + ")");
    if (s.kind == Span::Held) {
      const double track_height = (kLaneHeight - 10.0) / tracks;
      const bool whole_lane = s.hold == Span::Writer;
      if (!whole_lane && (y_in_lane < 4 + track * track_height || y_in_lane > 4 + (track + 1) * track_height)) continue;
      const char* how = s.hold == Span::Reader ? "read-held" : s.hold == Span::Writer ? "write-held" : "held";
      lines << QString("%1 %2 %3 %4%5")
                   .arg(keys_[lane], how, who, precise_duration_text(s.to - s.from),
                        s.open ? QString(" so far") : QString());
    } else if (s.kind == Span::Waited) {
      if (y_in_lane < kLaneHeight - 10) continue;
      lines << QString("%1 waited %2 for %3").arg(who, precise_duration_text(s.to - s.from), keys_[lane]);
    } else {
      lines << QString("%1: %2 of %3").arg(s.what, who, keys_[lane]);
    }
  }
  return lines.join('\n');
}

QPoint TimelineView::point_of(const QString& key, double t, Span::Kind kind) const {
  const int lane = static_cast<int>(keys_.indexOf(key));
  const int y = kTop + std::max(0, lane) * kLaneHeight + (kind == Span::Waited ? kLaneHeight - 7 : 6);
  return QPoint(static_cast<int>(std::lround(x_of(t))), y);
}

bool TimelineView::event(QEvent* e) {
  if (e->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(e);
    const QString text = tooltip_at(help->pos());
    if (text.isEmpty()) QToolTip::hideText();
    else QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(e);
}

void TimelineView::wheelEvent(QWheelEvent* e) {
  const double steps = e->angleDelta().y() / 120.0;
  if (steps != 0) zoom(std::pow(0.8, steps), time_at(e->position().x()));
  e->accept();
}

void TimelineView::mousePressEvent(QMouseEvent* e) {
  if (e->button() == Qt::LeftButton) drag_from_x_ = e->position().x();
}

void TimelineView::mouseMoveEvent(QMouseEvent* e) {
  if (drag_from_x_ < 0 || !(e->buttons() & Qt::LeftButton)) return;
  // Dragging right shows earlier times.
  pan(time_at(e->position().x()) - time_at(drag_from_x_));
  drag_from_x_ = e->position().x();
}

void TimelineView::mouseDoubleClickEvent(QMouseEvent*) { live(); }

void TimelineView::keyPressEvent(QKeyEvent* e) {
  const double span = view_end() - view_start();
  const double middle = view_start() + span / 2;
  switch (e->key()) {
    case Qt::Key_Plus: case Qt::Key_Equal: zoom(0.5, middle); break;
    case Qt::Key_Minus: zoom(2, middle); break;
    case Qt::Key_Left: pan(span / 4); break;
    case Qt::Key_Right: pan(-span / 4); break;
    case Qt::Key_Home: live(); break;
    default: QWidget::keyPressEvent(e);
  }
}

void TimelineView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().base());
  p.setPen(palette().text().color());
  if (keys_.isEmpty()) {
    p.drawText(rect(), Qt::AlignCenter, tr("Tick locks or semaphores on the left to draw their swimlanes."));
    return;
  }
  const double span = view_end() - view_start();
  // Time axis: seconds before now, at a round step giving 4 to 10 ticks.
  double step = std::pow(10.0, std::floor(std::log10(span / 4)));
  for (double m : {2.0, 2.5, 2.0}) if (span / step > 10) step *= m;
  const int decimals = step < 1 ? (step < 0.1 ? 2 : 1) : 0;
  for (double back = std::ceil((now_ - view_end()) / step) * step; now_ - back >= view_start(); back += step)
    p.drawText(QPointF(x_of(now_ - back) - 16, 14), back == 0 ? QString("now") : QString("-%1 s").arg(back, 0, 'f', decimals));
  p.setClipRect(QRect(kLabelWidth, 0, width() - kLabelWidth, height()));
  for (int i = 0; i < keys_.size(); ++i) {
    const int y = kTop + i * kLaneHeight;
    p.setClipping(false);
    p.setPen(palette().text().color());
    p.drawText(QRect(4, y, kLabelWidth - 8, kLaneHeight - 4), Qt::AlignVCenter | Qt::AlignLeft, keys_[i]);
    p.setPen(palette().mid().color());
    p.drawLine(kLabelWidth, y + kLaneHeight - 2, this->width(), y + kLaneHeight - 2);
    p.setClipping(true);
    int tracks = 1;
    const auto spans = placed(keys_[i], &tracks);
    const double track_height = (kLaneHeight - 10.0) / tracks;
    for (const auto& [s, track] : spans) {
      const double x0 = x_of(s.from), x1 = std::max(x0 + 1.5, x_of(s.to));
      const QColor colour = colour_of(s.pid);
      if (s.kind == Span::Held && s.hold == Span::Writer) {  // alone: the whole lane
        p.fillRect(QRectF(x0, y + 4, x1 - x0, kLaneHeight - 11), colour);
      } else if (s.kind == Span::Held && s.hold == Span::Reader) {  // shared: lighter, outlined, stacked
        const QRectF bar(x0, y + 4 + track * track_height, x1 - x0, track_height - 1);
        p.fillRect(bar, colour.lighter(125));
        p.setPen(colour.darker(150));
        p.drawRect(bar.adjusted(0, 0, -1, -1));
      } else if (s.kind == Span::Held) {
        p.fillRect(QRectF(x0, y + 4 + track * track_height, x1 - x0, track_height - 1), colour);
      } else if (s.kind == Span::Waited) {  // a hatched bar under the lane, ending in a tick
        const QRectF bar(x0, y + kLaneHeight - 9, x1 - x0, 5);
        p.fillRect(bar, QBrush(colour.darker(160), Qt::BDiagPattern));
        p.fillRect(QRectF(x1 - 1.5, bar.top() - 2, 1.5, bar.height() + 2), colour.darker(160));
      } else {
        p.fillRect(QRectF(x0 - 1.5, y + 1, 3, kLaneHeight - 6), Qt::red);
      }
    }
  }
  p.setClipping(false);
  // The colour key, then how to read and move the view.
  p.setPen(palette().text().color());
  double key_y = kTop + keys_.size() * kLaneHeight + 8;
  for (const auto& [pid, swatch] : legend_swatches()) {
    p.fillRect(swatch, colour_of(pid));
    p.drawText(QPointF(swatch.right() + 4, swatch.bottom() - 1), QString("pid %1").arg(pid));
    key_y = swatch.top() - 3;
  }
  p.drawText(QRectF(kLabelWidth, key_y + 20, std::max(1, width() - kLabelWidth - 10), 60),
             Qt::AlignLeft | Qt::TextWordWrap,
             tr("bars: holdings, one colour per process (stacked when several hold permits or read a "
                "SharedLock, outlined; a SharedLock's writer fills its lane); "
                "hatched: time spent waiting; red: force-release or timeout. Hover for details; "
                "wheel or +/- zooms, drag or arrows pan, double-click or Home: live."));
}

}  // namespace dcview
