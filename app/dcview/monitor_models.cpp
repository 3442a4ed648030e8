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
    parts << QString("%1%2 [%3%4]")
                 .arg(p.kind != PrimitiveKind::SharedLock ? QString() : h.shared ? QString("reader ") : QString("writer "),
                      holder_text(h), QString::fromUtf8(std::string(diskcache::to_string(h.state))),
                      h.count > 1 ? QString(" x%1").arg(h.count) : QString());
  return parts.join("; ");
}

// "2, longest 3 s" for the C++ threads waiting, or empty; sorts by count.
QString waiters_of(const PrimitiveInfo& p, double now) {
  if (p.waiters.empty()) return {};
  double since = p.waiters.front().since;
  for (const auto& w : p.waiters) since = std::min(since, w.since);
  return QString("%1, longest %2").arg(p.waiters.size()).arg(duration_text(now - since));
}

// A SharedLock's waiters by side: "1 writer, 2 readers, longest 3 s". Its
// value counts waiting writers of every language; the board shows C++ ones.
QString shared_waiters_of(const PrimitiveInfo& p, double now) {
  qsizetype readers = 0;
  for (const auto& w : p.waiters) readers += w.shared;
  const qsizetype writers = std::max<qsizetype>(p.writers_waiting, p.waiters.size() - readers);
  if (writers == 0 && readers == 0) return {};
  QStringList parts;
  if (writers) parts << QString("%1 writer%2").arg(writers).arg(writers == 1 ? "" : "s");
  if (readers) parts << QString("%1 reader%2").arg(readers).arg(readers == 1 ? "" : "s");
  const QString longest = waiters_of(p, now).section(", ", 1);
  return parts.join(", ") + (longest.isEmpty() ? QString() : ", " + longest);
}

QString kind_text(const PrimitiveInfo& p) {
  switch (p.kind) {
    case PrimitiveKind::RLock: return QString("RLock (depth %1)").arg(p.in_use);
    case PrimitiveKind::SharedLock:
      if (p.writer) return "SharedLock (writer)";
      if (p.in_use > 0) return QString("SharedLock (%1 reader%2)").arg(p.in_use).arg(p.in_use == 1 ? "" : "s");
      return "SharedLock";
    default: return "Lock";
  }
}

void push_point(QVector<QPointF>& series, QPointF point, int limit) {
  series.push_back(point);
  if (series.size() > limit) series.remove(0, series.size() - limit);
}

}  // namespace

MonitorModels::MonitorModels(QObject* parent)
    : QObject(parent),
      locks({"Key", "Kind", "State", "Holder", "Held for", "Expires in", "Waiting"}),
      semaphores({"Key", "In use / bound", "State", "Waiting", "Holders"}),
      averagers({"Key", "Mean", "Samples"}),
      transfers({"Offloader", "Device", "Direction", "Operations", "Failures", "Moved", "Avg rate per transfer",
                 "Latency p50", "Latency p99", "Pool used / blocks (peak)"}),
      history({"Time", "Key", "Event", "Holder", "Waited"}) {}

std::shared_ptr<const PreparedRows> MonitorModels::prepare(const Snapshot& s) {
  const double now = s.taken.toMSecsSinceEpoch() / 1000.0;
  auto rows = std::make_shared<PreparedRows>();
  for (const ShardPrimitive& sp : s.primitives) {
    const PrimitiveInfo& p = sp.info;
    const QString key = key_text(p.key);
    const QVariant payload = QVariant::fromValue(KeyRef{p.key, sp.shard});
    const QVariant waiting_sort = QVariant::fromValue<qlonglong>(static_cast<qlonglong>(p.waiters.size()));
    switch (p.kind) {
      case PrimitiveKind::Lock:
      case PrimitiveKind::RLock:
      case PrimitiveKind::SharedLock: {
        QString held_for, expires;
        QVariant held_sort, expires_sort;  // constant while held: a refresh does not re-sort
        if (const auto since = p.held_since()) {
          held_for = duration_text(now - *since);
          held_sort = -*since;
        }
        if (const auto expires_at = p.expires_at()) {
          expires = duration_text(*expires_at - now);
          expires_sort = *expires_at;
        }
        rows->locks.push_back({key,
                               {key, kind_text(p), state_of(p), holders_of(p), held_for, expires,
                                p.kind == PrimitiveKind::SharedLock ? shared_waiters_of(p, now) : waiters_of(p, now)},
                               p.stale(),
                               payload,
                               {{}, {}, {}, {}, held_sort, expires_sort, waiting_sort}});
        break;
      }
      case PrimitiveKind::Semaphore:
        rows->semaphores.push_back({key,
                                    {key, QString("%1 / %2").arg(p.in_use).arg(p.bound ? QString::number(*p.bound) : "?"),
                                     state_of(p), waiters_of(p, now), holders_of(p)},
                                    p.stale(),
                                    payload,
                                    {{}, QVariant::fromValue<qlonglong>(p.in_use), {}, waiting_sort, {}}});
        break;
      case PrimitiveKind::Averager:
        rows->averagers.push_back({key,
                                   {key, p.mean ? QString::number(*p.mean, 'g', 6) : QString("-"),
                                    QVariant::fromValue<qlonglong>(p.samples)},
                                   false,
                                   payload,
                                   {{}, p.mean ? QVariant(*p.mean) : QVariant(), {}}});
        break;
    }
  }
  return rows;
}

void MonitorModels::apply(const Snapshot& s) {
  if (!s.ok()) {  // keep the tables; the header says what went wrong
    auto failed = std::make_shared<Snapshot>(*last_);
    failed->error = s.error;
    failed->taken = s.taken;
    last_ = std::move(failed);
    emit applied();
    return;
  }
  last_ = std::make_shared<const Snapshot>(s);
  const double x = static_cast<double>(s.taken.toMSecsSinceEpoch());

  const auto rows = s.prepared ? s.prepared : prepare(s);
  holdings.clear();
  for (const ShardPrimitive& sp : s.primitives) {
    if (sp.info.kind == PrimitiveKind::Averager && sp.info.mean)
      push_point(averager_means[key_text(sp.info.key)], {x, *sp.info.mean}, kSeriesPoints);
    for (const auto& h : sp.info.holders)
      // A record's id carries its slot ("id/1"), history names the holder by its id.
      holdings[key_text(sp.info.key)].push_back(
          {QString::fromStdString(h.id).section('/', 0, 0), h.acquired_at, h.pid, sp.info.kind, h.shared});
  }
  locks.merge(rows->locks);
  semaphores.merge(rows->semaphores);
  averagers.merge(rows->averagers);

  QVector<KeyedRow> transfer_rows;
  for (const auto& r : s.transfers) {
    const QString name = QString::fromStdString(r.name);
    const QString device = QString::fromStdString(r.device);
    const QString pool = QString("%1 / %2 (%3)").arg(r.pool.in_use).arg(r.pool.blocks).arg(r.pool.high_water);
    for (auto [label, d] : {std::pair{QString("offload"), r.offload}, std::pair{QString("load"), r.load}}) {
      const QString series = name + " " + label;
      transfer_rows.push_back({series,
                               {name, device, label, QVariant::fromValue<qlonglong>(d.operations),
                                QVariant::fromValue<qlonglong>(d.failures), bytes_text(static_cast<double>(d.bytes)),
                                rate_text(d.throughput_bps), precise_duration_text(d.latency_p50_ms / 1000),
                                precise_duration_text(d.latency_p99_ms / 1000), pool},
                               d.failures > 0,
                               name,
                               {{}, {}, {}, {}, {}, QVariant::fromValue<qlonglong>(d.bytes), d.throughput_bps,
                                d.latency_p50_ms, d.latency_p99_ms, {}}});
      // The chart shows the rate between snapshots, not the per-transfer average.
      if (auto it = last_bytes_.find(series); it != last_bytes_.end() && x > it->first)
        push_point(throughput_mibps[series], {x, (d.bytes - it->second) / kMiB / ((x - it->first) / 1000.0)},
                   kSeriesPoints);
      last_bytes_[series] = {x, d.bytes};
    }
  }
  transfers.merge(transfer_rows);

  if (s.history_restarted) {  // a reopened or replaced store: its history starts over
    history.append_window({}, 0);
    events.clear();
    last_event_id_.clear();
  }
  std::vector<ShardEvent> fresh;  // events not shown yet (a second source may repeat some)
  for (const auto& e : s.new_events) {
    auto& newest = last_event_id_[e.shard];
    if (e.event.id <= newest) continue;
    newest = e.event.id;
    fresh.push_back(e);
    events.push_back(e.event);
  }
  if (events.size() > kTimelineEvents) events.remove(0, events.size() - kTimelineEvents);
  QVector<KeyedRow> history_rows;  // only those the window keeps (formatting times is not free)
  const std::size_t shown = std::min<std::size_t>(fresh.size(), kHistoryRows);
  for (const auto& [shard, e] : std::span(fresh).last(shown)) {
    const QString event = QString::fromStdString(e.event);
    // Only an acquisition (or a timeout) waited; a release has nothing to say there.
    const bool waited = event.startsWith("acquire") || event == "timeout";
    history_rows.push_back({QString("%1:%2").arg(shard).arg(e.id),
                            {QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(e.at * 1000)).toString("HH:mm:ss.zzz"),
                             key_text(e.key), event, QString("%1 pid %2").arg(QString::fromStdString(e.host)).arg(e.pid),
                             waited ? precise_duration_text(e.waited) : QString()},
                            event == "force-release" || event == "timeout",
                            {},
                            {e.at, {}, {}, {}, waited ? QVariant(e.waited) : QVariant(-1.0)}});
  }
  history.append_window(std::move(history_rows), kHistoryRows);
  emit applied();
}

}  // namespace dcview
