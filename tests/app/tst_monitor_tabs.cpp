// The monitor's tabs show what is there (issue 20's defects, one test each):
// the timeline draws holdings whose acquire event is gone, a fanout
// directory has history, charts get their room whatever tab is shown first,
// columns follow their text, the key browser follows the cache, history
// shows the newest rows and filters, the GPU tab labels what it shows, and
// the export (in the window and headless) is data that matches the CLI's;
// and what operators expect: an Overview dashboard whose alerts jump to
// their rows, Python holders with their age and expiry; a SharedLock's
// readers, writer and waiters per side, and its timeline lane (readers
// stacked, the writer alone across the lane).
#include <sqlite3.h>

#include <QDateTimeAxis>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QListWidget>
#include <QValueAxis>
#include <QtCharts/QChart>
#include <QtTest>
#include <atomic>
#include <thread>
#include <cmath>
#include <set>

#include "charts.hpp"
#include "dashboard.hpp"
#include "diskcache/diskcache.hpp"
#include "diskcache/gpu/emulated_device.hpp"
#include "diskcache/gpu/offloader.hpp"
#include "filtered_table.hpp"
#include "holding_process.hpp"
#include "keys_model.hpp"
#include "main_window.hpp"
#include "monitor_models.hpp"
#include "test_support.hpp"
#include "timeline.hpp"

using namespace diskcache;
using namespace dcview;
using namespace std::chrono_literals;
using test_support::helper_path;

namespace {

constexpr int kBound = 30000;  // generous: states arrive within ~1 s

using Holder = test_support::HeldByHelper;

QString cell(const KeyedTableModel& model, const QString& key, int column) {
  const int r = model.find(key);
  return r < 0 ? QString("<no row>") : model.index(r, column).data().toString();
}

double now_seconds() { return QDateTime::currentMSecsSinceEpoch() / 1000.0; }

// Empties the primitives' history table, as 10,000 later events would.
void forget_history(const QString& dir) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open((dir + "/cache.db").toUtf8().constData(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  const int rc = sqlite3_exec(db, "DELETE FROM diskcache_history", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  QCOMPARE(rc, SQLITE_OK);
}

int column_of(const QAbstractItemModel* model, const QString& header) {
  for (int c = 0; c < model->columnCount(); ++c)
    if (model->headerData(c, Qt::Horizontal).toString() == header) return c;
  return -1;
}

// 1, 2, 2.5 or 5 times a power of ten: a number a tick can be.
bool is_nice(double v) {
  if (v <= 0) return false;
  const double scale = std::pow(10.0, std::floor(std::log10(v)));
  const double m = v / scale;
  for (double nice : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (std::abs(m - nice) < 1e-6) return true;
  return false;
}

// Dark pixels in the 16 px under a chart's plot area, where its time axis
// writes its labels.
int ink_below_plot(SeriesChart* chart) {
  const QImage image = chart->grab().toImage();
  const QRectF plot = chart->chart()->plotArea();
  int ink = 0;
  for (int y = static_cast<int>(plot.bottom()) + 4; y < static_cast<int>(plot.bottom()) + 20 && y < image.height(); ++y)
    for (int x = static_cast<int>(plot.left()); x < static_cast<int>(plot.right()) && x < image.width(); ++x)
      ink += qGray(image.pixel(x, y)) < 128;
  return ink;
}

QJsonDocument read_json(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(file.readAll());
}

}  // namespace

class TestMonitorTabs : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  int n_ = 0;
  QString fresh() { return tmp_.path() + "/t" + QString::number(n_++); }

 private slots:
  void initTestCase() {
    qRegisterMetaType<Snapshot>();
    QStandardPaths::setTestModeEnabled(true);
  }

  // Defect 1: a lock still held, whose acquire event is no longer in the
  // history, is drawn from its holder record's acquisition time.
  void timeline_draws_holdings_whose_acquire_event_is_gone() {
    const QString dir = fresh();
    { Cache cache(dir.toStdString()); }
    Holder holder(dir, "printer");
    const double acquired_by = now_seconds();
    forget_history(dir);

    MainWindow window;
    window.open_directory(dir, 200ms);
    window.tabs()->setCurrentWidget(window.timeline()->parentWidget());
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("held"), kBound);
    QVERIFY(window.models().events.isEmpty());
    auto held_span = [&]() -> std::optional<TimelineView::Span> {
      for (const auto& s : window.timeline()->lanes().value("printer"))
        if (s.kind == TimelineView::Span::Held) return s;
      return std::nullopt;
    };
    QTRY_VERIFY_WITH_TIMEOUT(held_span().has_value(), kBound);
    QVERIFY(held_span()->from <= acquired_by);
    QCOMPARE(held_span()->pid, holder.pid());
    QVERIFY(held_span()->to >= now_seconds() - 5);
  }

  // The timeline says who is who: a colour key lists the processes drawn,
  // hovering a holding or a wait names the holder and its duration; the
  // wheel and the keys zoom, panning back pins the view while time goes on,
  // and Home returns to the live window.
  void timeline_has_a_key_tooltips_zoom_and_pan() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    Lock lock(cache, "printer");
    lock.lock();
    QProcess waiter;  // waits for the printer, takes it once released, holds it
    waiter.start(helper_path(), {"hold", dir, "printer", "lock"});
    QVERIFY(waiter.waitForStarted(kBound));
    // Once it waits (its wait is recorded), it waits 400 ms more.
    QTRY_VERIFY_WITH_TIMEOUT(!inspect_primitive(cache, Value("printer"))->waiters.empty(), kBound);
    QTest::qWait(400);
    lock.unlock();
    QVERIFY(waiter.waitForReadyRead(kBound));

    MainWindow window;
    window.open_directory(dir, 200ms);
    window.resize(1100, 700);
    window.tabs()->setCurrentWidget(window.timeline()->parentWidget());
    window.show();
    TimelineView* timeline = window.timeline();
    auto span_of = [&](TimelineView::Span::Kind kind, qint64 pid) -> std::optional<TimelineView::Span> {
      for (const auto& s : timeline->lanes().value("printer"))
        if (s.kind == kind && s.pid == pid) return s;
      return std::nullopt;
    };
    QTRY_VERIFY_WITH_TIMEOUT(span_of(TimelineView::Span::Held, waiter.processId()).has_value(), kBound);
    const auto held = *span_of(TimelineView::Span::Held, waiter.processId());
    // One bar for one holding: its acquire event and its holder record name
    // the same holder (the record's slot aside).
    const auto& lane = timeline->lanes().value("printer");
    QCOMPARE(std::count_if(lane.begin(), lane.end(),
                           [&](const auto& s) { return s.kind == TimelineView::Span::Held && s.pid == waiter.processId(); }),
             1);
    // The acquire event (with its wait) follows the holder record by at most
    // the history's batching delay.
    QTRY_VERIFY_WITH_TIMEOUT(span_of(TimelineView::Span::Waited, waiter.processId()).has_value(), kBound);
    const auto waited = span_of(TimelineView::Span::Waited, waiter.processId());
    QVERIFY2(waited->to - waited->from > 0.3, qPrintable(QString::number(waited->to - waited->from)));

    QVERIFY(timeline->legend().contains(waiter.processId()));
    QVERIFY(timeline->legend().contains(::getpid()));
    const QString pid = QString("pid %1").arg(waiter.processId());
    const QString on_holding =
        timeline->tooltip_at(timeline->point_of("printer", (held.from + held.to) / 2, TimelineView::Span::Held));
    QVERIFY2(on_holding.contains("printer held") && on_holding.contains(pid) && on_holding.contains("so far"),
             qPrintable(on_holding));
    const QString on_wait = timeline->tooltip_at(
        timeline->point_of("printer", (waited->from + waited->to) / 2, TimelineView::Span::Waited));
    QVERIFY2(on_wait.contains(pid + " (") && on_wait.contains("waited") && on_wait.contains("for printer"),
             qPrintable(on_wait));
    QCOMPARE(timeline->tooltip_at(QPoint(5, 5)), QString());

    const double window_seconds = timeline->view_end() - timeline->view_start();
    QWheelEvent wheel(QPointF(timeline->width() - 20, 40), timeline->mapToGlobal(QPointF(timeline->width() - 20, 40)),
                      {}, QPoint(0, 120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(timeline, &wheel);
    QVERIFY(timeline->view_end() - timeline->view_start() < 0.9 * window_seconds);
    QTest::keyClick(timeline, Qt::Key_Left);  // back in time: the view stays there
    const double pinned_end = timeline->view_end();
    QVERIFY(pinned_end < now_seconds() - 0.5);
    QTest::qWait(600);
    QCOMPARE(timeline->view_end(), pinned_end);
    QTest::keyClick(timeline, Qt::Key_Home);
    QCOMPARE(timeline->view_end() - timeline->view_start(), window_seconds);
    QTRY_VERIFY_WITH_TIMEOUT(timeline->view_end() > now_seconds() - 1, kBound);
    waiter.kill();
    waiter.waitForFinished(kBound);
  }

  // Defect 2: every shard's history is read, so History and Timeline are
  // filled on a FanoutCache too.
  void fanout_directories_have_history() {
    const QString dir = fresh();
    FanoutCache fanout(dir.toStdString(), {.shards = 3});
    std::set<std::size_t> shards_used;
    for (int i = 0; i < 12; ++i) {
      const std::string key = "job-" + std::to_string(i);
      Lock lock(fanout, key);
      lock.lock();
      lock.unlock();
      for (std::size_t s = 0; s < 3; ++s)
        if (&fanout.shard_for(key) == &fanout.shard(s)) shards_used.insert(s);
    }
    QVERIFY(shards_used.size() >= 2);
    MainWindow window;
    window.open_directory(dir, 200ms);
    QTRY_COMPARE_WITH_TIMEOUT(window.models().history.rowCount(), 24, kBound);
    QCOMPARE(window.models().events.size(), 24);
    for (int i = 0; i < 12; ++i) {  // every key's acquire and release, each once
      const QString key = QString("job-%1").arg(i);
      const auto of_key = std::count_if(window.models().events.begin(), window.models().events.end(),
                                        [&](const HistoryEvent& e) { return key_text(e.key) == key; });
      QCOMPARE(of_key, 2);
    }
    Lock later(fanout, "job-late");  // later events arrive too, once
    later.lock();
    later.unlock();
    QTRY_COMPARE_WITH_TIMEOUT(window.models().history.rowCount(), 26, kBound);
  }

  // Defect 3: a chart on the tab shown first gets its room (it was a 30 px
  // plot with every label elided).
  void charts_have_room_when_their_tab_is_shown_first() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      Averager(cache, "latency").add(1.5);
    }
    for (const QString& tab : {QString("Averagers"), QString("GPU transfers")}) {
      MainWindow window;
      window.open_directory(dir, 200ms);
      for (int i = 0; i < window.tabs()->count(); ++i)
        if (window.tabs()->tabText(i) == tab) window.tabs()->setCurrentIndex(i);
      window.resize(1100, 700);
      window.show();
      QVERIFY(QTest::qWaitForWindowExposed(&window));
      QTRY_VERIFY_WITH_TIMEOUT(window.models().last().ok() && !window.models().last().taken.isNull(), kBound);
      SeriesChart* chart = tab == "Averagers" ? window.averager_chart() : window.throughput_chart();
      QTRY_VERIFY2_WITH_TIMEOUT(chart->chart()->plotArea().height() > 120,
                                qPrintable(QString("%1: plot area %2 px high in a %3 px view")
                                               .arg(tab)
                                               .arg(chart->chart()->plotArea().height())
                                               .arg(chart->height())),
                                kBound);
      // The time axis is labelled: there is ink in the strip under the plot
      // (Qt Charts once left it blank when the axis was shown before its
      // first range).
      QTRY_VERIFY2_WITH_TIMEOUT(ink_below_plot(chart) > 20, qPrintable(tab + ": no time axis labels"), kBound);
    }
  }

  // Defect 4: a column widens when its text grows after the first fit.
  void columns_follow_their_text() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      register_primitive(cache, Value("printer"), PrimitiveKind::Lock);
    }
    MainWindow window;
    window.open_directory(dir, 200ms);
    window.tabs()->setCurrentWidget(window.locks_table());
    window.resize(1400, 700);
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("free"), kBound);
    Holder holder(dir, "printer");
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("held"), kBound);
    holder.kill_and_reap();
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("stale"), kBound);
    QTableView* view = window.locks_view();
    const int holder_column = column_of(view->model(), "Holder");
    QVERIFY(holder_column >= 0);
    const QModelIndex holder_cell = view->model()->index(0, holder_column);
    auto needed = [&] {
      QStyleOptionViewItem option;
      option.font = view->font();
      option.fontMetrics = view->fontMetrics();
      return view->itemDelegate()->sizeHint(option, holder_cell).width();
    };
    QTRY_VERIFY2_WITH_TIMEOUT(view->horizontalHeader()->sectionSize(holder_column) >= needed(),
                              qPrintable(QString("Holder column %1 px, its text (%2) needs %3 px")
                                             .arg(view->horizontalHeader()->sectionSize(holder_column))
                                             .arg(holder_cell.data().toString())
                                             .arg(needed())),
                              kBound);
  }

  // Defect 5: the key browser follows the cache while shown, and F5 reloads it.
  void keys_tab_follows_the_cache() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    for (int i = 0; i < 10; ++i) cache.set(i, i);
    cache.set("a key long enough to be cut off in a column of default width", 1);
    {
      MainWindow window;
      window.open_directory(dir, 200ms);
      window.tabs()->setCurrentIndex(window.tabs()->count() - 1);  // Keys
      QCOMPARE(window.tabs()->tabText(window.tabs()->currentIndex()), QString("Keys"));
      window.show();
      QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->total(), qint64(11), kBound);
      // Its columns fit their text (one line a row, nothing cut off).
      QTableView* view = window.keys_view();
      auto needs = [&](int column) {  // the widest text of the column's loaded rows
        int widest = 0;
        for (int r = 0; r < window.keys_model()->rowCount(); ++r)
          widest = std::max(widest,
                            view->fontMetrics().horizontalAdvance(window.keys_model()->index(r, column).data().toString()));
        return widest;
      };
      QTRY_VERIFY_WITH_TIMEOUT(view->columnWidth(KeysModel::Key) > needs(KeysModel::Key), kBound);
      QVERIFY(view->columnWidth(KeysModel::Stored) > needs(KeysModel::Stored));
      QVERIFY(!view->wordWrap());
      for (int i = 10; i < 30; ++i) cache.set(i, i);
      QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->total(), qint64(31), kBound);
      QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->rowCount(), 31, kBound);
    }
    MainWindow window;  // refreshed only by hand
    window.open_directory(dir, 3600s);
    QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->total(), qint64(31), kBound);
    cache.set("late", 1);
    window.refresh_now();
    QTRY_COMPARE_WITH_TIMEOUT(window.keys_model()->total(), qint64(32), kBound);
  }

  // Defect 6: the newest events are at the top, releases do not claim a
  // wait, and the table filters.
  void history_shows_newest_first_and_filters() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    Averager(cache, "small").add(9);
    Averager(cache, "large").add(10);
    Averager(cache, "huge").add(100);
    Lock a(cache, "alpha"), b(cache, "beta");
    for (int i = 0; i < 60; ++i) {
      a.lock();
      a.unlock();
    }
    for (int i = 0; i < 5; ++i) {
      b.lock();
      b.unlock();
    }
    MainWindow window;
    window.open_directory(dir, 200ms);
    window.tabs()->setCurrentWidget(window.history_table());
    window.resize(1100, 700);
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(window.models().history.rowCount(), 130, kBound);
    QTableView* view = window.history_view();
    const int event_column = column_of(view->model(), "Event"), key_column = column_of(view->model(), "Key"),
              waited_column = column_of(view->model(), "Waited");
    // The row at the top of the view is the newest event: beta's last release.
    const QModelIndex top = view->indexAt(QPoint(5, 5));
    QVERIFY(top.isValid());
    QCOMPARE(view->model()->index(top.row(), key_column).data().toString(), QString("beta"));
    QCOMPARE(view->model()->index(top.row(), event_column).data().toString(), QString("release"));
    for (int r = 0; r < view->model()->rowCount(); ++r) {
      const QString waited = view->model()->index(r, waited_column).data().toString();
      if (view->model()->index(r, event_column).data().toString() == "release")
        QVERIFY2(waited.isEmpty(), qPrintable(waited));
      else
        QVERIFY2(waited.endsWith(" ms") || waited.endsWith(" s"), qPrintable(waited));
    }
    window.history_table()->set_filter("beta");
    QCOMPARE(view->model()->rowCount(), 10);
    window.history_table()->set_filter("");
    QCOMPARE(view->model()->rowCount(), 130);
    // Every table sorts and filters: Locks by key; Averagers by their
    // means as numbers (as text "9" would come before "100").
    window.locks_table()->set_filter("alp");
    QCOMPARE(window.locks_view()->model()->rowCount(), 1);
    FilteredTable* averagers = window.averagers_table();
    averagers->sort_by(column_of(averagers->view()->model(), "Mean"), Qt::DescendingOrder);
    QStringList order;
    for (int r = 0; r < averagers->view()->model()->rowCount(); ++r)
      order << averagers->view()->model()->index(r, 0).data().toString();
    QCOMPARE(order, (QStringList{"huge", "large", "small"}));
  }

  // Defect 7: the table's per-transfer rate and the chart's rate between
  // refreshes are labelled apart, the device kind is shown, the chart's x
  // axis is clock time and its ticks are round numbers.
  void gpu_tab_says_what_it_shows() {
    const QString dir = fresh();
    Cache cache(dir.toStdString());
    auto device = gpu::make_emulated_device();
    gpu::Offloader offloader(*device, cache, {.stats_name = "trainer"});
    auto stream = device->create_stream();
    void* buffer = device->allocate_device(1 << 20);
    MainWindow window;
    window.open_directory(dir, 200ms);
    for (int i = 0; i < window.tabs()->count(); ++i)
      if (window.tabs()->tabText(i) == "GPU transfers") window.tabs()->setCurrentIndex(i);
    window.resize(1100, 700);
    window.show();
    for (int round = 0; round < 30 && window.throughput_chart()->series_count() == 0; ++round) {
      offloader.offload(Value(std::int64_t(round)), buffer, 1 << 20, *stream).done.get();
      offloader.publish();
      QTest::qWait(150);
    }
    device->free_device(buffer);
    QTRY_VERIFY_WITH_TIMEOUT(window.throughput_chart()->series_count() > 0, kBound);
    const KeyedTableModel& t = window.models().transfers;
    const int device_column = column_of(&t, "Device");
    QVERIFY(device_column >= 0);
    QCOMPARE(cell(t, "trainer offload", device_column), QString("emulated"));
    const int rate_column = column_of(&t, "Avg rate per transfer");
    QVERIFY2(rate_column >= 0, "the table's rate says it is per transfer");
    QChart* chart = window.throughput_chart()->chart();
    auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).front());
    QVERIFY(y);
    QVERIFY2(y->titleText() != t.headerData(rate_column, Qt::Horizontal).toString(), qPrintable(y->titleText()));
    QVERIFY2(y->titleText().contains("between refreshes"), qPrintable(y->titleText()));
    // One unit convention: the table's rate and the chart's axis both in MiB/s.
    QVERIFY2(cell(t, "trainer offload", rate_column).endsWith(" MiB/s") ||
                 cell(t, "trainer offload", rate_column).endsWith(" GiB/s"),
             qPrintable(cell(t, "trainer offload", rate_column)));
    QVERIFY2(y->titleText().startsWith("MiB/s"), qPrintable(y->titleText()));
    QVERIFY(qobject_cast<QDateTimeAxis*>(chart->axes(Qt::Horizontal).front()));
    const double step = (y->max() - y->min()) / (y->tickCount() - 1);
    QVERIFY2(is_nice(step), qPrintable(QString("tick step %1 over %2..%3").arg(step).arg(y->min()).arg(y->max())));
  }

  // Defect 11 and --export-json: the export is data (numbers, ISO-8601
  // times, structured holders, a format version), the same the window
  // shows, and names the holders `diskcache locks --json` names.
  void export_is_data_and_matches_the_cli() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      Averager(cache, "latency").add(2.5);
    }
    Holder lock_holder(dir, "printer");
    Holder permit_holder(dir, "gpu", "sem");
    const QString file = tmp_.path() + "/export.json";
    const auto run = test_support::run(QStringLiteral(DISKCACHE_MONITOR), {dir, "--export-json", file}, 60000);
    QVERIFY2(run.exit_code == 0, run.err.constData());
    const QJsonObject root = read_json(file).object();
    QCOMPARE(root["format_version"].toInt(), 1);
    QVERIFY(QDateTime::fromString(root["taken"].toString(), Qt::ISODateWithMs).isValid());
    QCOMPARE(root["overview"].toObject()["shards"].toInt(), 1);
    const QJsonArray primitives = root["primitives"].toArray();

    const auto cli = test_support::run(QStringLiteral(DISKCACHE_CLI), {"locks", dir, "--json"});
    QVERIFY2(cli.exit_code == 0, cli.err.constData());
    const QJsonArray listed = QJsonDocument::fromJson(cli.out).array();
    QCOMPARE(primitives.size(), listed.size());
    auto summary = [](const QJsonArray& all) {
      QStringList out;
      for (const auto& v : all) {
        const QJsonObject p = v.toObject();
        QStringList holders;
        for (const auto& v : p["holders"].toArray()) {
          const QJsonObject h = v.toObject();
          holders << QString("%1/%2/%3").arg(h["pid"].toInteger()).arg(h["state"].toString()).arg(h["count"].toInteger());
        }
        out << QString("%1 %2 held=%3 stale=%4 in_use=%5 [%6]")
                   .arg(p["key"].toObject()["repr"].toString(), p["kind"].toString())
                   .arg(p["held"].toBool())
                   .arg(p["stale"].toBool())
                   .arg(p["in_use"].toInteger())
                   .arg(holders.join(","));
      }
      out.sort();
      return out;
    };
    QCOMPARE(summary(primitives), summary(listed));
    const QString printer_pid = QString::number(lock_holder.pid());
    QVERIFY2(summary(primitives).join('\n').contains(printer_pid + "/alive/1"), qPrintable(summary(primitives).join('\n')));
    for (const auto& v : primitives) {
      const QJsonObject p = v.toObject();
      for (const auto& h : p["holders"].toArray())
        QVERIFY(QDateTime::fromString(h.toObject()["acquired_iso"].toString(), Qt::ISODateWithMs).isValid());
      if (p["kind"].toString() == "Averager") QCOMPARE(p["mean"].toDouble(), 2.5);
    }

    // The window's File > Export writes the same document.
    MainWindow window;
    window.open_directory(dir, 200ms);
    QTRY_COMPARE_WITH_TIMEOUT(cell(window.models().locks, "printer", 2), QString("held"), kBound);
    const QString from_window = tmp_.path() + "/window.json";
    QVERIFY(window.export_snapshot(from_window));
    const QJsonObject again = read_json(from_window).object();
    QCOMPARE(again["format_version"].toInt(), 1);
    QCOMPARE(summary(again["primitives"].toArray()), summary(primitives));

    // A location that cannot be read: a clear error, exit 1, no file.
    const QString missing = tmp_.path() + "/none.json";
    const auto bad = test_support::run(QStringLiteral(DISKCACHE_MONITOR), {tmp_.path() + "/absent", "--export-json", missing});
    QCOMPARE(bad.exit_code, 1);
    QVERIFY2(bad.err.contains("absent"), bad.err.constData());
    QVERIFY(!QFile::exists(missing));
  }

  // The Overview is a dashboard: its tiles count held, stale and waiting,
  // its alerts name a stale holder (first) and a wait over the threshold,
  // and activating an alert shows its row on its tab.
  void overview_dashboard_alerts_jump_to_their_rows() {
    const QString dir = fresh();
    {
      Cache cache(dir.toStdString());
      Averager(cache, "latency").add(1.0);
    }
    Holder printer(dir, "printer");
    QProcess waiter;  // waits for the printer for as long as the test runs
    waiter.start(helper_path(), {"hold", dir, "printer", "lock"});
    QVERIFY(waiter.waitForStarted(kBound));
    Holder dead(dir, "scanner");
    const qint64 dead_pid = dead.pid();
    dead.kill_and_reap();
    QSettings().setValue("alerts/wait_seconds", 1);

    MainWindow window;
    window.open_directory(dir, 200ms);
    window.resize(1100, 700);
    window.show();
    DashboardView* dashboard = window.dashboard();
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->tile_text("Processes waiting").startsWith("1 |"), kBound);
    QTRY_VERIFY_WITH_TIMEOUT(dashboard->alerts()->count() >= 2 &&
                                 dashboard->alerts()->item(1)->text().startsWith("printer: 1 waiting"),
                             kBound);
    QCOMPARE(dashboard->tile_text("Locks held"), QString("2 of 2 | 1 stale"));
    QCOMPARE(dashboard->tile_text("Averagers").section(" |", 0, 0), QString("1"));
    QListWidgetItem* stale = dashboard->alerts()->item(0);
    QVERIFY2(stale->text().startsWith("scanner: holder") && stale->text().contains("stale") &&
                 stale->text().contains(QString("pid %1 ").arg(dead_pid)),
             qPrintable(stale->text()));

    window.locks_table()->set_filter("printer");  // a filter that hides the row is cleared
    emit dashboard->alerts()->itemActivated(stale);
    QCOMPARE(window.tabs()->tabText(window.tabs()->currentIndex()), QString("Locks"));
    const QModelIndex current = window.locks_view()->currentIndex();
    QVERIFY(current.isValid());
    QCOMPARE(current.siblingAtColumn(0).data().toString(), QString("scanner"));
    QVERIFY(window.locks_view()->selectionModel()->isRowSelected(current.row(), {}));

    QVERIFY(!window.jump_to("Locks", "no such key"));
    QVERIFY(window.jump_to("Overview"));
    waiter.kill();
    waiter.waitForFinished(kBound);
    QSettings().remove("alerts/wait_seconds");
  }

  // Python's Lock leaves no holder record; its row's store time says since
  // when it is held, and its expiry when it lapses: shown in the window,
  // in the CLI's table and in its JSON.
  void python_holders_show_held_for_and_expires_in() {
    const QString dir = fresh();
    { Cache cache(dir.toStdString()); }
    QProcess python;
    python.start(test_support::python(),
                 {"-c", "import sys, diskcache; c = diskcache.Cache(sys.argv[1]); "
                        "diskcache.Lock(c, 'py-lock', expire=600).acquire()",
                  dir});
    QVERIFY(python.waitForFinished(kBound));
    QCOMPARE(python.exitCode(), 0);
    const double acquired = now_seconds();
    {
      Cache cache(dir.toStdString());
      register_primitive(cache, Value("py-lock"), PrimitiveKind::Lock);
    }
    MainWindow window;
    window.open_directory(dir, 200ms);
    const KeyedTableModel& locks = window.models().locks;
    QTRY_COMPARE_WITH_TIMEOUT(cell(locks, "py-lock", column_of(&locks, "State")), QString("held"), kBound);
    const QString held_for = cell(locks, "py-lock", column_of(&locks, "Held for"));
    QVERIFY2(held_for == "< 1 s" || held_for.endsWith(" s"), qPrintable(held_for));
    const QString expires = cell(locks, "py-lock", column_of(&locks, "Expires in"));
    QVERIFY2(expires == "9 min" || expires == "10 min", qPrintable(expires));

    QProcess cli;
    cli.start(DISKCACHE_CLI, {"locks", "--json", dir});
    QVERIFY(cli.waitForFinished(kBound));
    const QJsonArray listed = QJsonDocument::fromJson(cli.readAllStandardOutput()).array();
    QCOMPARE(listed.size(), 1);
    const QJsonObject p = listed[0].toObject();
    QVERIFY2(std::abs(p["held_since"].toDouble() - acquired) < 5, qPrintable(QString::number(p["held_since"].toDouble())));
    QVERIFY2(std::abs(p["expires_at"].toDouble() - (acquired + 600)) < 5,
             qPrintable(QString::number(p["expires_at"].toDouble())));
    cli.start(DISKCACHE_CLI, {"locks", dir});
    QVERIFY(cli.waitForFinished(kBound));
    const QString table = QString::fromUtf8(cli.readAllStandardOutput());
    QVERIFY2(QRegularExpression(R"(py-lock'?\s+held\s+1\s+(< 1 s|\d+ s))").match(table).hasMatch(), qPrintable(table));
  }

  // The colour key wraps instead of dropping the processes that do not fit
  // (the demo's 13 workers lost their last ones).
  void timeline_key_lists_every_process() {
    TimelineView timeline;
    timeline.resize(520, 400);
    QVector<HistoryEvent> events;
    const double now = now_seconds();
    for (int i = 0; i < 12; ++i)
      for (const char* what : {"acquire", "release"}) {
        HistoryEvent e;
        e.at = now - 20 + i + (what[0] == 'r' ? 0.5 : 0);
        e.key = Value("k");
        e.event = what;
        e.holder = "h:" + std::to_string(i);
        e.pid = 40000 + i;
        events.push_back(e);
      }
    timeline.show_events(events, {"k"}, now, 30);
    const auto swatches = timeline.legend_swatches();
    QCOMPARE(swatches.size(), 12);
    std::set<double> rows;
    for (const auto& [pid, swatch] : swatches) {
      QVERIFY2(swatch.right() <= timeline.width(), qPrintable(QString::number(pid)));
      rows.insert(swatch.top());
    }
    QVERIFY(rows.size() > 1);
  }

  void shared_lock_shows_readers_writer_and_its_lane() {
    const QString dir = fresh();
    { Cache cache(dir.toStdString()); }
    Holder reader1(dir, "catalog", "shared"), reader2(dir, "catalog", "shared");
    // A writer waits behind the readers (in this process, shown on its side).
    Cache cache(dir.toStdString());
    SharedLock writer(cache, "catalog");
    std::atomic<bool> got{false};
    std::thread waiting([&] { got = writer.try_lock_for(60s); });

    MainWindow window;
    window.open_directory(dir, 200ms);
    window.tabs()->setCurrentWidget(window.timeline()->parentWidget());
    window.show();
    const KeyedTableModel& locks = window.models().locks;
    QTRY_COMPARE_WITH_TIMEOUT(cell(locks, "catalog", column_of(&locks, "Kind")), QString("SharedLock (2 readers)"),
                              kBound);
    QTRY_VERIFY_WITH_TIMEOUT(cell(locks, "catalog", column_of(&locks, "Waiting")).startsWith("1 writer, longest"),
                             kBound);
    const QString holders = cell(locks, "catalog", column_of(&locks, "Holder"));
    QCOMPARE(holders.count("reader "), 2);
    QVERIFY(holders.contains(QString::number(reader1.pid())) && holders.contains(QString::number(reader2.pid())));
    auto spans = [&](TimelineView::Span::Hold hold) {
      QVector<TimelineView::Span> out;
      for (const auto& s : window.timeline()->lanes().value("catalog"))
        if (s.kind == TimelineView::Span::Held && s.hold == hold) out.push_back(s);
      return out;
    };
    QTRY_COMPARE_WITH_TIMEOUT(spans(TimelineView::Span::Reader).size(), 2, kBound);  // overlapping: stacked
    const auto both = spans(TimelineView::Span::Reader);
    QVERIFY(both[0].from < both[1].to && both[1].from < both[0].to);

    reader1.kill_and_reap();
    reader2.kill_and_reap();
    QTRY_COMPARE_WITH_TIMEOUT(cell(locks, "catalog", column_of(&locks, "State")), QString("stale"), kBound);
    window.tabs()->setCurrentWidget(window.locks_table());
    window.locks_view()->selectRow(locks.find("catalog"));
    window.confirm = [](const QString&) { return true; };
    QCOMPARE(window.force_release_selected(), QString("released 2 dead holder(s) of catalog"));
    waiting.join();
    QVERIFY(got);  // the writer got in
    QTRY_COMPARE_WITH_TIMEOUT(cell(locks, "catalog", column_of(&locks, "Kind")), QString("SharedLock (writer)"), kBound);
    window.tabs()->setCurrentWidget(window.timeline()->parentWidget());  // it draws while shown
    QTRY_COMPARE_WITH_TIMEOUT(spans(TimelineView::Span::Writer).size(), 1, kBound);
    writer.unlock();
  }
};

QTEST_MAIN(TestMonitorTabs)
#include "tst_monitor_tabs.moc"
