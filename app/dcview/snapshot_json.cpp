#include "snapshot_json.hpp"

#include <QByteArray>
#include <QDateTime>
#include <QJsonDocument>
#include <QSaveFile>

namespace dcview {
namespace {

QString text(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<qsizetype>(s.size())); }
QJsonValue optional_time(const std::optional<double>& t) { return t ? QJsonValue(iso_time(*t)) : QJsonValue(); }
QJsonValue optional_number(const std::optional<double>& t) { return t ? QJsonValue(*t) : QJsonValue(); }

QJsonObject direction_json(const diskcache::gpu::DirectionStats& d) {
  return {{"bytes", static_cast<qint64>(d.bytes)},
          {"operations", static_cast<qint64>(d.operations)},
          {"failures", static_cast<qint64>(d.failures)},
          {"latency_mean_ms", d.latency_mean_ms},
          {"latency_p50_ms", d.latency_p50_ms},
          {"latency_p95_ms", d.latency_p95_ms},
          {"latency_p99_ms", d.latency_p99_ms},
          {"throughput_bps", d.throughput_bps}};
}

}  // namespace

QJsonValue value_json(const diskcache::Value& value) {
  QJsonObject out{{"type", text(value.type_name())}, {"repr", QString::fromStdString(value.repr())}};
  switch (value.type()) {
    case diskcache::Value::Type::None: out["value"] = QJsonValue::Null; break;
    case diskcache::Value::Type::Bool: out["value"] = value.as_bool(); break;
    case diskcache::Value::Type::Int: out["value"] = static_cast<qint64>(value.as_int()); break;
    case diskcache::Value::Type::Float: out["value"] = value.as_double(); break;
    case diskcache::Value::Type::Text: out["value"] = QString::fromStdString(value.as_text()); break;
    case diskcache::Value::Type::Bytes:  // JSON has no bytes: base64, said so
      out["value"] = QString::fromLatin1(QByteArray::fromStdString(value.as_bytes().data).toBase64());
      out["encoding"] = "base64";
      break;
    default: break;
  }
  return out;
}

QString iso_time(double unix_seconds) {
  return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(unix_seconds * 1000)).toOffsetFromUtc(
      QDateTime::currentDateTime().offsetFromUtc()).toString(Qt::ISODateWithMs);
}

QJsonObject primitive_json(const diskcache::PrimitiveInfo& p, double now) {
  QJsonArray holders;
  for (const auto& h : p.holders)
    holders.append(QJsonObject{{"id", QString::fromStdString(h.id)},
                               {"host", QString::fromStdString(h.host)},
                               {"pid", static_cast<qint64>(h.pid)},
                               {"thread", static_cast<qint64>(h.thread)},
                               {"acquired_at", h.acquired_at},
                               {"acquired_iso", iso_time(h.acquired_at)},
                               {"expires_at", optional_number(h.expires_at)},
                               {"expires_iso", optional_time(h.expires_at)},
                               {"count", static_cast<qint64>(h.count)},
                               {"shared", h.shared},
                               {"state", text(diskcache::to_string(h.state))}});
  QJsonArray waiters;
  for (const auto& w : p.waiters)
    waiters.append(QJsonObject{{"pid", static_cast<qint64>(w.pid)},
                               {"thread", static_cast<qint64>(w.thread)},
                               {"since", w.since},
                               {"waited_s", now - w.since},
                               {"shared", w.shared}});
  QJsonObject out{{"key", value_json(p.key)},
                  {"kind", text(diskcache::to_string(p.kind))},
                  {"registered", p.registered},
                  {"held", p.held},
                  {"stale", p.stale()},
                  {"in_use", static_cast<qint64>(p.in_use)},
                  {"holders", holders},
                  {"waiters", waiters}};
  out["held_since"] = optional_number(p.held_since());
  out["expires_at"] = optional_number(p.expires_at());
  if (p.bound) out["bound"] = static_cast<qint64>(*p.bound);
  if (p.mean) out["mean"] = *p.mean;
  if (p.kind == diskcache::PrimitiveKind::Averager) out["samples"] = static_cast<qint64>(p.samples);
  if (p.kind == diskcache::PrimitiveKind::SharedLock) {
    out["writer"] = p.writer;
    out["writers_waiting"] = static_cast<qint64>(p.writers_waiting);
  }
  return out;
}

QJsonObject transfer_json(const diskcache::gpu::TransferReport& r) {
  return {{"name", QString::fromStdString(r.name)},
          {"device", QString::fromStdString(r.device)},
          {"pid", static_cast<qint64>(r.pid)},
          {"updated", r.updated},
          {"updated_iso", iso_time(r.updated)},
          {"offload", direction_json(r.offload)},
          {"load", direction_json(r.load)},
          {"pool", QJsonObject{{"blocks", static_cast<qint64>(r.pool.blocks)},
                               {"in_use", static_cast<qint64>(r.pool.in_use)},
                               {"high_water", static_cast<qint64>(r.pool.high_water)},
                               {"block_bytes", static_cast<qint64>(r.pool.block_bytes)}}}};
}

QJsonObject skipped_json(const diskcache::SkippedRow& row) {
  return {{"database", QString::fromStdString(row.database.string())},
          {"table", QString::fromStdString(row.table)},
          {"rowid", static_cast<qint64>(row.rowid)},
          {"reason", QString::fromStdString(row.reason)}};
}

QJsonObject snapshot_json(const Snapshot& s) {
  const double now = static_cast<double>(s.taken.toMSecsSinceEpoch()) / 1000.0;
  QJsonArray primitives, transfers, skipped;
  for (const ShardPrimitive& sp : s.primitives) {
    QJsonObject p = primitive_json(sp.info, now);
    p["shard"] = sp.shard;
    primitives.append(p);
  }
  for (const auto& r : s.transfers) transfers.append(transfer_json(r));
  for (const auto& row : s.skipped) skipped.append(skipped_json(row));
  const Overview& o = s.overview;
  return {{"format_version", kExportFormatVersion},
          {"location", s.directory},
          {"taken", s.taken.toString(Qt::ISODateWithMs)},
          {"collect_ms", s.elapsed_ms},
          {"error", s.ok() ? QJsonValue() : QJsonValue(s.error)},
          {"overview", QJsonObject{{"items", o.count},
                                   {"volume_bytes", o.volume},
                                   {"size_limit_bytes", o.size_limit},
                                   {"hits", o.hits},
                                   {"misses", o.misses},
                                   {"eviction_policy", o.eviction_policy},
                                   {"shards", o.shards},
                                   {"fanout", o.fanout}}},
          {"primitives", primitives},
          {"gpu_transfers", transfers},
          {"skipped", skipped}};
}

QString write_snapshot_json(const Snapshot& s, const QString& path) {
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly)) return QString("cannot write %1: %2").arg(path, file.errorString());
  file.write(QJsonDocument(snapshot_json(s)).toJson(QJsonDocument::Indented));
  if (!file.commit()) return QString("cannot write %1: %2").arg(path, file.errorString());
  return {};
}

}  // namespace dcview
