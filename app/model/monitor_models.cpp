#include "monitor_models.hpp"

#include <algorithm>
#include <span>

namespace dcview {
namespace {

using diskcache::PrimitiveInfo;
using diskcache::PrimitiveKind;

QString state_of(const PrimitiveInfo& p) {
  if (!p.held) return "free";
  return p.stale() ? "stale" : "held";
}

QString holders_of(const PrimitiveInfo& p) {
  if (p.held && p.holders.empty()) return "unknown (Python)";
  QStringList parts;
  for (const auto& h : p.holders)
    parts << QString("%1 [%2%3]")
                 .arg(holder_text(h), QString::fromUtf8(std::string(diskcache::to_string(h.state))),
                      h.count > 1 ? QString(" x%1").arg(h.count) : QString());
  return parts.join("; ");
}

void push_point(QVector<QPointF>& series, QPointF point, int limit) {
  series.push_back(point);
  if (series.size() > limit) series.remove(0, series.size() - limit);
}

}  // namespace

MonitorModels::MonitorModels(QObject* parent)
    : QObject(parent),
      locks({"Key", "Kind", "State", "Holder", "Held for", "Expires in"}),
      semaphores({"Key", "In use / bound", "State", "Holders"}),
      averagers({"Key", "Mean", "Samples"}),
      transfers({"Offloader", "Direction", "Operations", "Failures", "MB moved", "MB/s", "p50 ms", "p99 ms",
                 "Pool in use / blocks (high water)"}),
      history({"Time", "Key", "Event", "Holder", "Waited"}) {}

std::shared_ptr<const PreparedRows> MonitorModels::prepare(const Snapshot& s) {
  const double now = s.taken.toMSecsSinceEpoch() / 1000.0;
  auto rows = std::make_shared<PreparedRows>();
  for (const ShardPrimitive& sp : s.primitives) {
    const PrimitiveInfo& p = sp.info;
    const QString key = key_text(p.key);
    const QVariant payload = QVariant::fromValue(KeyRef{p.key, sp.shard});
    switch (p.kind) {
      case PrimitiveKind::Lock:
      case PrimitiveKind::RLock: {
        QString held_for, expires;
        if (p.held && !p.holders.empty()) held_for = duration_text(now - p.holders.front().acquired_at);
        if (p.held && !p.holders.empty() && p.holders.front().expires_at)
          expires = duration_text(*p.holders.front().expires_at - now);
        else if (p.expire_time)
          expires = duration_text(*p.expire_time - now);
        rows->locks.push_back({key,
                             {key, p.kind == PrimitiveKind::Lock ? "Lock" : QString("RLock (depth %1)").arg(p.in_use),
                              state_of(p), holders_of(p), held_for, expires},
                             p.stale(),
                             payload});
        break;
      }
      case PrimitiveKind::Semaphore:
        rows->semaphores.push_back({key,
                            {key, QString("%1 / %2").arg(p.in_use).arg(p.bound ? QString::number(*p.bound) : "?"),
                             state_of(p), holders_of(p)},
                            p.stale(),
                            payload});
        break;
      case PrimitiveKind::Averager:
        rows->averagers.push_back({key,
                            {key, p.mean ? QString::number(*p.mean, 'f', 3) : QString("-"),
                             QVariant::fromValue<qlonglong>(p.samples)},
                            false,
                            payload});
        break;
    }
  }
  return rows;
}

void MonitorModels::apply(const Snapshot& s) {
  // The header only: copying a thousand primitives every refresh is GUI time.
  last_ = Snapshot{s.directory, s.error, s.skipped, s.taken, s.elapsed_ms, s.overview, {}, {}, {}, nullptr};
  if (!s.ok()) {
    emit applied();
    return;
  }
  if (!first_.isValid()) first_ = s.taken;
  const double x = first_.msecsTo(s.taken) / 1000.0;

  const auto rows = s.prepared ? s.prepared : prepare(s);
  for (const ShardPrimitive& sp : s.primitives)
    if (sp.info.kind == PrimitiveKind::Averager && sp.info.mean)
      push_point(averager_means[key_text(sp.info.key)], {x, *sp.info.mean}, kSeriesPoints);
  locks.merge(rows->locks);
  semaphores.merge(rows->semaphores);
  averagers.merge(rows->averagers);

  QVector<KeyedRow> transfer_rows;
  for (const auto& r : s.transfers) {
    const QString name = QString::fromStdString(r.name);
    const QString pool = QString("%1 / %2 (%3)").arg(r.pool.in_use).arg(r.pool.blocks).arg(r.pool.high_water);
    for (auto [label, d] : {std::pair{QString("offload"), r.offload}, std::pair{QString("load"), r.load}}) {
      const QString series = name + " " + label;
      transfer_rows.push_back({series,
                               {name, label, QVariant::fromValue<qlonglong>(d.operations),
                                QVariant::fromValue<qlonglong>(d.failures), QString::number(d.bytes / 1e6, 'f', 1),
                                QString::number(d.throughput_bps / 1e6, 'f', 1),
                                QString::number(d.latency_p50_ms, 'f', 2), QString::number(d.latency_p99_ms, 'f', 2),
                                pool},
                               d.failures > 0,
                               name});
      // The chart shows the rate between snapshots, not the lifetime average.
      if (auto it = last_bytes_.find(series); it != last_bytes_.end() && x > it->first)
        push_point(throughput_mbps[series], {x, (d.bytes - it->second) / 1e6 / (x - it->first)}, kSeriesPoints);
      last_bytes_[series] = {x, d.bytes};
    }
  }
  transfers.merge(transfer_rows);

  if (!s.new_events.empty() && s.new_events.front().id <= last_event_id_) {
    history.append_window({}, 0);  // the history restarted (a reopened or replaced store): start over
    events.clear();
  }
  if (!s.new_events.empty()) last_event_id_ = s.new_events.back().id;
  for (const auto& e : s.new_events) events.push_back(e);
  if (events.size() > kTimelineEvents) events.remove(0, events.size() - kTimelineEvents);
  QVector<KeyedRow> history_rows;  // only those the window keeps (formatting times is not free)
  const std::size_t shown = std::min<std::size_t>(s.new_events.size(), kHistoryRows);
  for (const auto& e : std::span(s.new_events).last(shown)) {
    const QString event = QString::fromStdString(e.event);
    history_rows.push_back({QString::number(e.id),
                           {QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(e.at * 1000)).toString("HH:mm:ss.zzz"),
                            key_text(e.key), event, QString("%1 pid %2").arg(QString::fromStdString(e.host)).arg(e.pid),
                            QString("%1 ms").arg(e.waited * 1000, 0, 'f', 1)},
                           event == "force-release" || event == "timeout",
                           {}});
  }
  history.append_window(std::move(history_rows), kHistoryRows);
  emit applied();
}

}  // namespace dcview
