// Snapshots and their parts as JSON data: numbers, ISO-8601 times next to
// Unix seconds, structured holders and waiters. The CLI's --json output and
// the monitor's export (File > Export, --export-json) are both built here,
// so they name the same holders, counts and states.
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>

#include "diskcache/gpu/transfer_stats.hpp"
#include "diskcache/inspect.hpp"
#include "diskcache/value.hpp"
#include "snapshot.hpp"

namespace dcview {

// The export's format; raised when a field changes meaning or goes away.
inline constexpr int kExportFormatVersion = 1;

// {"type": "<python type>", "repr": "<python repr>"}, plus "value" for JSON
// scalars (bytes as base64, with "encoding": "base64").
QJsonValue value_json(const diskcache::Value& value);
// Unix seconds as local ISO-8601 with milliseconds and offset.
QString iso_time(double unix_seconds);
// Times are Unix seconds, each with an "_iso" twin (local ISO-8601).
// A primitive: key, kind, state flags, counts, holders (id, host, pid,
// thread, acquired_at, expires_at, count, state),
// waiters (pid, thread, since, waited_s), bound, mean/samples. `now` (Unix
// seconds) measures the waits.
QJsonObject primitive_json(const diskcache::PrimitiveInfo& p, double now);
QJsonObject transfer_json(const diskcache::gpu::TransferReport& r);
QJsonObject skipped_json(const diskcache::SkippedRow& row);
// The whole snapshot, as the monitor shows it, with kExportFormatVersion.
QJsonObject snapshot_json(const Snapshot& s);
// Writes snapshot_json(s) to `path` atomically (a temporary file renamed
// over it). Returns an empty string, or what went wrong, naming the path.
QString write_snapshot_json(const Snapshot& s, const QString& path);

}  // namespace dcview
