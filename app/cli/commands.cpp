#include "commands.hpp"

#include <unistd.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QDateTime>
#include <QJsonObject>
#include <QTextStream>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "diskcache/error.hpp"
#include "diskcache/gpu/transfer_stats.hpp"
#include "diskcache/inspect.hpp"
#include "lock_command.hpp"
#include "python_literal.hpp"
#include "inspector.hpp"
#include "snapshot_json.hpp"
#include "cache_directory.hpp"
#include "units.hpp"
#include "value_text.hpp"

namespace cli {

using dcview::CacheDirectory;
namespace {

using diskcache::Value;

void print(const QString& text) { std::cout << text.toStdString() << std::endl; }

// Rows a command passed over because they cannot be read: one warning each
// on stderr; the command goes on with the rest.
void warn_skipped(const diskcache::SkippedRows& skipped) {
  for (const auto& row : skipped)
    std::cerr << "diskcache: warning: passed over " << row.table << " row " << row.rowid << " of "
              << row.database.string() << ": " << row.reason << "\n";
}

// Text for a terminal: control characters (ESC, CR, BEL, C1 ...) are shown
// as \xNN or \uNNNN escapes so stored escape sequences never reach it;
// newlines and tabs stay.
QString escape_controls(const QString& text) {
  QString out;
  out.reserve(text.size());
  for (const QChar c : text) {
    const char16_t u = c.unicode();
    const bool control = (u < 0x20 && u != '\n' && u != '\t') || u == 0x7f || (u >= 0x80 && u < 0xa0) ||
                         u == 0x2028 || u == 0x2029 || u == '\\';
    if (!control) {
      out += c;
    } else if (u == '\\') {
      out += "\\\\";
    } else if (u < 0x100) {
      out += QString("\\x%1").arg(u, 2, 16, QChar('0'));
    } else {
      out += QString("\\u%1").arg(u, 4, 16, QChar('0'));
    }
  }
  return out;
}
void print_json(const QJsonValue& v) {
  const QJsonDocument doc = v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject());
  std::cout << doc.toJson(QJsonDocument::Indented).toStdString();
}

// A numeric option, checked: InvalidArgument (exit 2) naming the option
// when it is not a number or below `least` (or not above it, `strictly`).
double number_option(const QCommandLineParser& o, const char* name, double fallback, double least, bool strictly,
                     bool whole) {
  if (!o.isSet(name)) return fallback;
  const QString text = o.value(name);
  bool ok = false;
  const double n = whole ? static_cast<double>(text.toLongLong(&ok)) : text.toDouble(&ok);
  const char* kind = whole ? "a whole number" : "a number";
  if (!ok || !std::isfinite(n))
    throw diskcache::InvalidArgument(QString("--%1 takes %2, not '%3'").arg(name, kind, text).toStdString());
  if (strictly ? n <= least : n < least)
    throw diskcache::InvalidArgument(
        QString("--%1 must be %2 %3, not %4").arg(name, strictly ? "more than" : "at least").arg(least).arg(text).toStdString());
  return n;
}

ValueKind kind_of(const QCommandLineParser& o, const char* int_flag, const char* float_flag, const char* bytes_flag) {
  if (o.isSet(int_flag)) return ValueKind::Int;
  if (o.isSet(float_flag)) return ValueKind::Float;
  if (o.isSet(bytes_flag)) return ValueKind::BytesHex;
  return ValueKind::Text;
}

Value key_arg(const QString& text, const QCommandLineParser& o) {
  if (o.isSet("key-py")) return parse_python_literal(text.toStdString());
  if (o.isSet("key-json")) return parse_json_key(text.toStdString());
  return parse_value(text, kind_of(o, "key-int", "key-float", "key-bytes"));
}

QString holder_text(const diskcache::PrimitiveInfo& p) {
  if (!p.held) return "-";
  if (p.holders.empty()) return "unknown (Python?)";
  QStringList parts;
  for (const auto& h : p.holders)
    parts << QString("%1%2 pid %3 thread %4 x%5 [%6]")
                 .arg(p.kind != diskcache::PrimitiveKind::SharedLock ? "" : h.shared ? "reader " : "writer ")
                 .arg(QString::fromStdString(h.host))
                 .arg(h.pid)
                 .arg(h.thread)
                 .arg(h.count)
                 .arg(QString::fromStdString(std::string(diskcache::to_string(h.state))));
  return parts.join("; ");
}

// GPU transfer statistics published by Offloaders.
std::vector<diskcache::gpu::TransferReport> transfer_reports(dcview::Inspector& inspector) {
  diskcache::SkippedRows skipped;
  auto out = inspector.transfers(skipped);
  warn_skipped(skipped);
  return out;
}

// A store that holds no items (Redis): what its primitives are.
int primitive_stats(dcview::Inspector& inspector, const QString& location, bool json) {
  std::map<std::string, qint64> kinds;
  qint64 held = 0, stale = 0;
  diskcache::SkippedRows skipped;
  const auto all = inspector.primitives(skipped, dcview::Inspector::RLockScan::Full);
  warn_skipped(skipped);
  for (const auto& p : all) {
    ++kinds[std::string(diskcache::to_string(p.kind))];
    held += p.held;
    stale += p.stale();
  }
  if (json) {
    QJsonObject by_kind;
    for (const auto& [kind, n] : kinds) by_kind[QString::fromStdString(kind)] = n;
    print_json(QJsonObject{{"location", location}, {"servers", static_cast<qint64>(inspector.parts())},
                           {"primitives", static_cast<qint64>(all.size())}, {"kinds", by_kind}, {"held", held},
                           {"stale", stale}});
  } else {
    print(QString("location    %1 (%2)").arg(location, inspector.description()));
    print(QString("primitives  %1 (%2 held, %3 stale)").arg(all.size()).arg(held).arg(stale));
    for (const auto& [kind, n] : kinds) print(QString("  %1 %2").arg(QString::fromStdString(kind), -10).arg(n));
  }
  return kOk;
}

int stats(dcview::Inspector& inspector, const QString& dir, bool json) {
  const auto totals = inspector.totals();
  if (!totals) return primitive_stats(inspector, dir, json);
  const diskcache::CacheTotals& t = *totals;
  const QString policy = inspector.eviction_policy();
  const auto transfers = transfer_reports(inspector);
  if (json) {
    QJsonArray gpu;
    for (const auto& r : transfers) gpu.append(dcview::transfer_json(r));
    print_json(QJsonObject{{"directory", dir},
                           {"count", static_cast<qint64>(t.count)},
                           {"volume", static_cast<qint64>(t.volume)},
                           {"size_limit", static_cast<qint64>(t.size_limit)},
                           {"hits", static_cast<qint64>(t.hits)},
                           {"misses", static_cast<qint64>(t.misses)},
                           {"eviction_policy", policy},
                           {"shards", static_cast<qint64>(t.shards)},
                           {"fanout", inspector.fanout()},
                           {"gpu", gpu}});
  } else {
    print(QString("directory   %1%2").arg(dir, inspector.fanout() ? QString(" (fanout, %1 shards)").arg(t.shards) : ""));
    print(QString("items       %1").arg(t.count));
    print(QString("volume      %1 of %2 (%3 of %4 bytes)")
              .arg(dcview::bytes_text(static_cast<double>(t.volume)), dcview::bytes_text(static_cast<double>(t.size_limit)))
              .arg(t.volume)
              .arg(t.size_limit));
    print(QString("hits        %1, misses %2").arg(t.hits).arg(t.misses));
    print(QString("policy      %1").arg(policy));
    for (const auto& r : transfers) {
      print(QString("gpu         %1 (pool %2/%3 blocks in use, high water %4)")
                .arg(QString::fromStdString(r.name))
                .arg(r.pool.in_use)
                .arg(r.pool.blocks)
                .arg(r.pool.high_water));
      for (auto [label, d] : {std::pair{"offload", r.offload}, std::pair{"load", r.load}})
        print(QString("  %1 %2 ops, %3 failed, %4 moved, %5 per transfer, latency p50 %6 p99 %7")
                  .arg(label, -8)
                  .arg(d.operations)
                  .arg(d.failures)
                  .arg(dcview::bytes_text(static_cast<double>(d.bytes)), dcview::rate_text(d.throughput_bps),
                       dcview::precise_duration_text(d.latency_p50_ms / 1000),
                       dcview::precise_duration_text(d.latency_p99_ms / 1000)));
    }
  }
  return kOk;
}

int keys(CacheDirectory& directory, bool json, qint64 limit) {
  QJsonArray out;
  qint64 n = 0;
  for (auto* shard : directory.shards()) {
    const diskcache::KeyRange range = shard->keys();
    for (const Value& key : range) {
      if (limit >= 0 && n++ >= limit) break;
      json ? out.append(dcview::value_json(key)) : print(QString::fromStdString(key.repr()));
    }
    warn_skipped(range.skipped());
  }
  if (json) print_json(out);
  return kOk;
}

int get(CacheDirectory& directory, const Value& key, bool json, bool raw) {
  auto entry = directory.shard_for(key).get_entry(key);
  if (!entry) {
    if (json) print_json(QJsonObject{{"key", dcview::value_json(key)}, {"found", false}});
    return kNotFound;
  }
  if (json) {
    print_json(QJsonObject{{"key", dcview::value_json(key)},
                           {"found", true},
                           {"value", dcview::value_json(entry->value)},
                           {"expire_time", entry->expire_time ? QJsonValue(*entry->expire_time) : QJsonValue()},
                           {"tag", dcview::value_json(entry->tag)}});
  } else if (raw && entry->value.type() == Value::Type::Text) {
    std::cout << entry->value.as_text() << std::flush;
  } else if (raw && entry->value.type() == Value::Type::Bytes) {
    std::cout << entry->value.as_bytes().data << std::flush;
  } else if (entry->value.type() == Value::Type::Text) {
    print(escape_controls(QString::fromStdString(entry->value.as_text())));
  } else {
    print(QString::fromStdString(entry->value.repr()));
  }
  return kOk;
}

double interval_of(const QCommandLineParser& o) { return number_option(o, "interval", 1.0, 0.01, false, false); }
qint64 iterations_of(const QCommandLineParser& o) {
  return static_cast<qint64>(number_option(o, "iterations", -1, 1, false, true));
}
QString now_iso() { return QDateTime::currentDateTime().toString(Qt::ISODateWithMs); }
void print_line_json(const QJsonObject& v) { std::cout << QJsonDocument(v).toJson(QJsonDocument::Compact).toStdString() << "\n"; }

QJsonArray primitives_json(const std::vector<diskcache::PrimitiveInfo>& primitives) {
  QJsonArray out;
  const double now = static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
  for (const auto& p : primitives) out.append(dcview::primitive_json(p, now));
  return out;
}

// How long it has been held (a Python holder: since its key was written),
// or "-".
QString held_for_text(const diskcache::PrimitiveInfo& p) {
  const auto since = p.held_since();
  if (!since) return "-";
  return dcview::duration_text(static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0 - *since);
}

// "2, longest 1.3 s" for the C++ waiters of a primitive, or "-".
QString waiters_text(const diskcache::PrimitiveInfo& p) {
  const double now = static_cast<double>(QDateTime::currentMSecsSinceEpoch()) / 1000.0;
  if (p.kind == diskcache::PrimitiveKind::SharedLock) {  // by side: "1w 2r, longest 3 s"
    qint64 readers = 0;
    for (const auto& w : p.waiters) readers += w.shared;
    const qint64 writers = std::max<qint64>(p.writers_waiting, static_cast<qint64>(p.waiters.size()) - readers);
    if (writers == 0 && readers == 0) return "-";
    const QString sides = QString("%1w %2r").arg(writers).arg(readers);
    if (p.waiters.empty()) return sides;
    return sides + QString(", longest %1").arg(dcview::duration_text(now - p.waiters.front().since));
  }
  if (p.waiters.empty()) return "-";
  return QString("%1, longest %2").arg(p.waiters.size()).arg(dcview::duration_text(now - p.waiters.front().since));
}

void print_primitives(const std::vector<diskcache::PrimitiveInfo>& primitives, bool json) {
  if (json) return print_json(primitives_json(primitives));
  const auto row = [](const QString& kind, const QString& key, const QString& state, const QString& usage,
                      const QString& held_for, const QString& waiters, const QString& holders) {
    print(QString("%1  %2  %3  %4  %5  %6  %7")
              .arg(kind, -11)
              .arg(key, -24)
              .arg(state, -5)
              .arg(usage, -14)
              .arg(held_for, -9)
              .arg(waiters, -18)
              .arg(holders));
  };
  row("KIND", "KEY", "STATE", "IN USE", "HELD FOR", "WAITERS", "HOLDERS");
  for (const auto& p : primitives) {
    const QString state = p.stale() ? "STALE" : (p.held ? "held" : "free");
    QString usage = p.bound ? QString("%1/%2").arg(p.in_use).arg(*p.bound) : QString::number(p.in_use);
    if (p.kind == diskcache::PrimitiveKind::Averager)
      usage = p.mean ? QString("%1 (n=%2)").arg(*p.mean, 0, 'g', 4).arg(p.samples) : "empty";
    if (p.kind == diskcache::PrimitiveKind::SharedLock && p.held)
      usage = p.writer ? QString("writer") : QString("%1 reader%2").arg(p.in_use).arg(p.in_use == 1 ? "" : "s");
    row(QString::fromStdString(std::string(diskcache::to_string(p.kind))), QString::fromStdString(p.key.repr()),
        state, usage, held_for_text(p), waiters_text(p), holder_text(p));
  }
}

int locks(dcview::Inspector& inspector, bool json) {
  diskcache::SkippedRows skipped;
  const auto all = inspector.primitives(skipped, dcview::Inspector::RLockScan::Full);
  warn_skipped(skipped);
  print_primitives(all, json);
  return kOk;
}

// The primitives' history (every shard), oldest first, the latest `limit`
// events; of one key when `only` is given.
int history(dcview::Inspector& inspector, const std::optional<Value>& only, bool json, qint64 limit) {
  std::vector<diskcache::HistoryEvent> events;
  diskcache::SkippedRows skipped;
  std::vector<std::int64_t> after;
  while (true) {  // the history keeps at most 10,000 events per shard
    auto batch = inspector.history(after, 2000, skipped);
    if (batch.empty()) break;
    for (auto& e : batch)
      if (!only || e.key == *only) events.push_back(std::move(e));
  }
  warn_skipped(skipped);
  // Oldest first over every shard (each batch is, batches may interleave).
  std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  if (static_cast<qint64>(events.size()) > limit) events.erase(events.begin(), events.end() - limit);
  QJsonArray out;
  if (!json) print(QString("%1  %2  %3  %4  %5  %6").arg("TIME", -23).arg("EVENT", -13).arg("KIND", -9)
                       .arg("KEY", -20).arg("WAITED", -9).arg("HOLDER"));
  for (const auto& e : events) {
    const QString at = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(e.at * 1000)).toString(Qt::ISODateWithMs);
    const QString kind = QString::fromStdString(std::string(diskcache::to_string(e.kind)));
    if (json) {
      out.append(QJsonObject{{"id", static_cast<qint64>(e.id)}, {"at", at}, {"event", QString::fromStdString(e.event)},
                             {"kind", kind}, {"key", dcview::value_json(e.key)}, {"holder", QString::fromStdString(e.holder)},
                             {"pid", static_cast<qint64>(e.pid)}, {"host", QString::fromStdString(e.host)},
                             {"waited_s", e.waited}});
    } else {
      print(QString("%1  %2  %3  %4  %5  %6 (pid %7)")
                .arg(at, -23)
                .arg(QString::fromStdString(e.event), -13)
                .arg(kind, -11)
                .arg(QString::fromStdString(e.key.repr()), -20)
                .arg(e.event.starts_with("acquire") || e.event == "timeout" ? dcview::precise_duration_text(e.waited) : QString("-"), -9)
                .arg(QString::fromStdString(e.holder))
                .arg(e.pid));
    }
  }
  if (json) print_json(out);
  return kOk;
}

int print_release(diskcache::ForceReleaseResult result, const QString& name) {
  switch (result) {
    case diskcache::ForceReleaseResult::Released: print("released " + name); return kOk;
    case diskcache::ForceReleaseResult::NotHeld: print("not held: " + name); return kNotFound;
    case diskcache::ForceReleaseResult::RefusedAlive:
      print("refused: a holder of " + name + " is alive or unknown; use --force to release it anyway");
      return kRefused;
  }
  return kError;
}

int check(CacheDirectory& directory, bool fix, bool json) {
  QStringList warnings;
  const bool show_progress = ::isatty(2) && !json;
  for (auto* shard : directory.shards())
    for (const auto& w : shard->check(fix, [&](std::int64_t done, std::int64_t total) {
           if (show_progress && total > 1000) std::fprintf(stderr, "\rchecking %lld/%lld", (long long)done, (long long)total);
         }))
      warnings << QString::fromStdString(w);
  if (show_progress) std::fprintf(stderr, "\r");
  if (json) {
    print_json(QJsonObject{{"warnings", QJsonArray::fromStringList(warnings)}, {"fixed", fix}});
  } else {
    for (const auto& w : warnings) print(w);
    if (warnings.isEmpty()) print("ok");
  }
  return warnings.isEmpty() || fix ? kOk : kNotFound;
}

// Runs `body` every `interval` seconds until `iterations` (-1: for ever).
// On a terminal: a screen cleared each time; piped or with --json: no
// escapes, and with --json one compact JSON object per refresh (a line
// each), for scripts to stream.
template <class Body>
int watch(const QString& location, double interval, qint64 iterations, bool json, Body&& body) {
  const bool terminal = ::isatty(1) && !json;
  for (qint64 i = 0; iterations < 0 || i < iterations; ++i) {
    if (terminal) {
      std::cout << "\x1b[2J\x1b[H";  // clear the terminal
      print(QString("diskcache watch  %1   (Ctrl-C to stop)").arg(location));
    } else if (!json) {
      print(QString("-- %1 %2").arg(location, QDateTime::currentDateTime().toString(Qt::ISODateWithMs)));
    }
    body();
    std::cout.flush();
    if (iterations >= 0 && i + 1 >= iterations) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
  return kOk;
}

// The cache directory behind `inspector`, for commands on items.
CacheDirectory& items_of(dcview::Inspector& inspector, const QString& command) {
  if (CacheDirectory* directory = inspector.directory()) return *directory;
  throw diskcache::InvalidArgument("'" + command.toStdString() + "' needs a cache directory: a Redis store holds "
                                   "primitives only (stats, locks, history, release, watch)");
}

}  // namespace

int run_command(const QString& command, const QStringList& args, const QCommandLineParser& o) {
  const bool json = o.isSet("json");
  static const std::map<QString, int> arg_count{{"stats", 1}, {"keys", 1}, {"get", 2},   {"set", 3},
                                                {"rm", 2},    {"locks", 1}, {"release", 2}, {"check", 1},
                                                {"evict", 1}, {"watch", 1}, {"register", 2}};
  if (command == "lock") {  // lock DIR KEY -- CMD ...: the command's own arguments follow
    if (args.size() < 3)
      throw diskcache::InvalidArgument("'lock' takes DIR KEY -- COMMAND [ARGS...]; see --help");
    const auto inspector = dcview::open_inspector(args[0], true);
    CacheDirectory& directory = items_of(*inspector, command);
    const Value key = key_arg(args[1], o);
    LockedRun run;
    if (o.isSet("timeout")) run.timeout = number_option(o, "timeout", 0, 0, false, false);
    if (o.isSet("semaphore")) run.semaphore = static_cast<std::int64_t>(number_option(o, "semaphore", 1, 1, false, true));
    if (int(o.isSet("semaphore")) + int(o.isSet("shared")) + int(o.isSet("exclusive")) > 1)
      throw diskcache::InvalidArgument("'lock' takes one of --semaphore, --shared and --exclusive");
    if (o.isSet("shared")) run.shared = LockedRun::Shared::Reader;
    if (o.isSet("exclusive")) run.shared = LockedRun::Shared::Writer;
    for (qsizetype i = 2; i < args.size(); ++i) run.command.push_back(args[i].toStdString());
    return run_locked(directory.shard_for(key), key, run);
  }
  if (command == "history") {
    if (args.size() != 1 && args.size() != 2)
      throw diskcache::InvalidArgument("'history' takes DIR [KEY]; see --help");
    const auto inspector = dcview::open_inspector(args[0], false);
    std::optional<Value> only;
    if (args.size() == 2) only = key_arg(args[1], o);
    return history(*inspector, only, json, static_cast<qint64>(number_option(o, "limit", 1000, 1, false, true)));
  }
  const auto expected = arg_count.find(command);
  if (expected == arg_count.end())
    throw diskcache::InvalidArgument("unknown command '" + command.toStdString() + "'; see --help");
  if (args.size() != expected->second)
    throw diskcache::InvalidArgument(QString("'%1' takes %2 argument(s), got %3; see --help")
                                         .arg(command)
                                         .arg(expected->second)
                                         .arg(args.size())
                                         .toStdString());
  const bool writes = command == "set" || command == "rm" || command == "release" || command == "evict" ||
                      command == "register" ||
                      (command == "check" && o.isSet("fix"));
  if (command == "check") {
    // A database too damaged to open is a problem check found (exit 1),
    // as a damaged row or value file is.
    try {
      const auto inspector = dcview::open_inspector(args[0], writes);
      return check(items_of(*inspector, command), o.isSet("fix"), json);
    } catch (const diskcache::CorruptCache& e) {
      json ? print_json(QJsonObject{{"warnings", QJsonArray{QString::fromUtf8(e.what())}}, {"fixed", false}})
           : print(QString::fromUtf8(e.what()));
      return kNotFound;
    }
  }
  const auto inspector = dcview::open_inspector(args[0], writes);

  if (command == "stats") return stats(*inspector, args[0], json);
  if (command == "locks") return locks(*inspector, json);
  if (command == "release") {
    const Value key = key_arg(args[1], o);
    std::optional<std::string> holder;
    if (o.isSet("holder")) holder = o.value("holder").toStdString();
    return print_release(inspector->force_release(key, inspector->shard_of(key), o.isSet("force"), holder),
                         QString::fromStdString(key.repr()));
  }
  if (command == "register") {
    const Value key = key_arg(args[1], o);
    const auto kind = diskcache::parse_primitive_kind(o.value("kind").toStdString());
    if (!o.isSet("kind") || !kind || (*kind != diskcache::PrimitiveKind::Lock &&
                                      *kind != diskcache::PrimitiveKind::Semaphore))
      throw diskcache::InvalidArgument("register needs --kind lock or --kind semaphore (with --bound N)");
    std::optional<std::int64_t> bound;
    if (*kind == diskcache::PrimitiveKind::Semaphore) {
      if (!o.isSet("bound")) throw diskcache::InvalidArgument("register --kind semaphore needs --bound N");
      bound = static_cast<std::int64_t>(number_option(o, "bound", 1, 1, false, true));
    }
    inspector->register_primitive(key, *kind, bound);
    print("registered " + QString::fromStdString(key.repr()) + " as " + o.value("kind"));
    return kOk;
  }
  if (command == "watch")
    return watch(args[0], interval_of(o), iterations_of(o), json, [&] {
      const auto totals = inspector->totals();
      if (json) {
        diskcache::SkippedRows skipped;
        const auto all = inspector->primitives(skipped, dcview::Inspector::RLockScan::Full);
        warn_skipped(skipped);
        QJsonObject line{{"taken", now_iso()}, {"location", args[0]}, {"primitives", primitives_json(all)}};
        if (totals) {
          line["count"] = static_cast<qint64>(totals->count);
          line["volume"] = static_cast<qint64>(totals->volume);
          line["hits"] = static_cast<qint64>(totals->hits);
          line["misses"] = static_cast<qint64>(totals->misses);
        }
        print_line_json(line);
        return;
      }
      if (totals) {
        print(QString("items %1   volume %2   hits %3   misses %4")
                  .arg(totals->count)
                  .arg(dcview::bytes_text(static_cast<double>(totals->volume)))
                  .arg(totals->hits)
                  .arg(totals->misses));
        print("");
      }
      locks(*inspector, false);
    });

  CacheDirectory& directory = items_of(*inspector, command);
  if (command == "keys") return keys(directory, json, static_cast<qint64>(number_option(o, "limit", -1, 0, false, true)));
  if (command == "get") return get(directory, key_arg(args[1], o), json, o.isSet("raw"));
  if (command == "set") {
    const Value key = key_arg(args[1], o);
    diskcache::SetOptions set_options;
    if (o.isSet("expire")) set_options.expire = number_option(o, "expire", 0, 0, true, false);
    if (o.isSet("tag")) set_options.tag = Value(o.value("tag").toStdString());
    directory.shard_for(key).set(key, parse_value(args[2], kind_of(o, "int", "float", "bytes")), set_options);
    return kOk;
  }
  if (command == "rm") return directory.shard_for(key_arg(args[1], o)).erase(key_arg(args[1], o)) ? kOk : kNotFound;
  if (!o.isSet("tag")) throw diskcache::InvalidArgument("evict needs --tag");  // evict: the last command
  std::int64_t removed = 0;
  for (auto* shard : directory.shards()) removed += shard->evict(Value(o.value("tag").toStdString()));
  json ? print_json(QJsonObject{{"removed", static_cast<qint64>(removed)}}) : print(QString("removed %1").arg(removed));
  return kOk;
}

}  // namespace cli
