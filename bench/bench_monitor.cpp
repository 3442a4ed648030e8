// The monitor's refresh on a large cache: 100,000 keys and 1,000 primitives
// (400 locks, 300 semaphores, 300 averagers, each really used once).
//
//   bench_monitor DIR [--reps N] [--seconds S] [--json FILE]
//
// Measures, in one run:
//   collect  one snapshot (SnapshotSource::collect, the poller's work off the
//            GUI thread): median and max over N repetitions;
//   apply    merging a snapshot into the models (GUI thread);
//   keys     the key browser's first page (COUNT + 200 rows, worker thread);
//   event    the longest the GUI thread spent handling one event during that
//            phase: the stall this program causes (the target);
//   stall    the longest gap between 1 ms timer ticks on the GUI thread while
//            the real main window refreshes every 100 ms, with each tab in
//            front for S seconds (offscreen platform): the longest the GUI
//            was unresponsive, including time the OS ran other threads
//            instead (on a busy 2-core VM, a few such gaps reach 20-40 ms).
//            The first 300 ms after switching tabs (first paint, first
//            page of keys) are not counted.
//   slowest  the GUI thread's slowest events during that phase, by event
//            type and receiver class (where a stall's time goes).
#include <QApplication>
#include <QElapsedTimer>
#include <QThread>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "diskcache/diskcache.hpp"
#include "keys_model.hpp"
#include "main_window.hpp"
#include "monitor_models.hpp"

namespace {

// Times every event the GUI thread delivers (outermost only) while `timing`
// stays on (an event that switched it off, a tab switch, is not counted).
class TimingApp : public QApplication {
 public:
  using QApplication::QApplication;
  bool timing = false;
  struct Slowest {
    double ms = 0;
    int count = 0;
  };
  std::map<std::string, Slowest> slowest;  // "event type receiver class"
  double longest_ms = 0;                   // the longest event of all

  bool notify(QObject* receiver, QEvent* event) override {
    if (!timing || depth_ > 0 || QThread::currentThread() != thread()) return QApplication::notify(receiver, event);
    ++depth_;
    QElapsedTimer t;
    t.start();
    const int type = event->type();
    const bool result = QApplication::notify(receiver, event);
    const double ms = t.nsecsElapsed() / 1e6;
    --depth_;
    if (timing) longest_ms = std::max(longest_ms, ms);
    if (ms >= 4 && timing) {
      auto& s = slowest[std::to_string(type) + " " + receiver->metaObject()->className()];
      s.ms = std::max(s.ms, ms);
      ++s.count;
    }
    return result;
  }

 private:
  int depth_ = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void populate(const std::string& dir) {
  using namespace diskcache;
  std::filesystem::remove_all(dir);
  Cache cache(dir);
  cache.transact([&] {
    for (int i = 0; i < 100000; ++i) cache.set("key-" + std::to_string(i), Bytes(std::string(64, 'v')));
  });
  for (int i = 0; i < 400; ++i) {
    Lock lock(cache, "lock-" + std::to_string(i));
    lock.lock();
    if (i % 10) lock.unlock();  // every tenth stays held
  }
  for (int i = 0; i < 300; ++i) {
    BoundedSemaphore sem(cache, "sem-" + std::to_string(i), 4);
    sem.acquire();
    if (i % 3) sem.release();
  }
  for (int i = 0; i < 300; ++i) Averager(cache, "avg-" + std::to_string(i)).add(i);
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  TimingApp app(argc, argv);
  QString dir, json;
  int reps = 20, seconds = 5;
  const QStringList args = app.arguments();
  for (int i = 1; i < args.size(); ++i) {
    if (args[i] == "--reps") reps = args.value(++i).toInt();
    else if (args[i] == "--seconds") seconds = args.value(++i).toInt();
    else if (args[i] == "--json") json = args.value(++i);
    else dir = args[i];
  }
  if (dir.isEmpty()) {
    std::fprintf(stderr, "usage: bench_monitor DIR [--reps N] [--seconds S] [--json FILE]\n");
    return 2;
  }
  QElapsedTimer timer;
  timer.start();
  populate(dir.toStdString());
  std::printf("populated %s in %.1f s\n", qPrintable(dir), timer.elapsed() / 1000.0);

  dcview::SnapshotSource source(dir);
  dcview::MonitorModels models;
  std::vector<double> collect_ms, apply_ms;
  std::size_t primitives = 0;
  for (int r = 0; r < reps; ++r) {
    const dcview::Snapshot s = source.collect();
    if (!s.ok()) {
      std::fprintf(stderr, "snapshot failed: %s\n", qPrintable(s.error));
      return 1;
    }
    primitives = s.primitives.size();
    collect_ms.push_back(s.elapsed_ms);
    timer.restart();
    models.apply(s);
    apply_ms.push_back(timer.nsecsElapsed() / 1e6);
  }

  dcview::KeysModel keys;
  timer.restart();
  keys.set_location(dir);
  while (keys.rowCount() == 0 && keys.error().isEmpty()) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
  const double keys_ms = timer.nsecsElapsed() / 1e6;

  // The GUI thread's longest stall while the real window refreshes, with
  // each tab in front for `seconds` seconds.
  dcview::MainWindow window;
  window.open_directory(dir, std::chrono::milliseconds(100));
  window.show();
  int refreshes = 0;
  QObject::connect(&window, &dcview::MainWindow::refreshed, [&] { ++refreshes; });
  const QStringList tabs = {"Overview", "Locks", "Semaphores", "Averagers", "Timeline", "GPU transfers", "History", "Keys"};
  QMap<QString, double> stall_ms;
  int current = -1;
  QElapsedTimer gap, phase;
  QTimer tick;
  tick.setInterval(1);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    if (current < 0 || phase.elapsed() >= seconds * 1000) {  // next tab
      if (++current == tabs.size()) {
        app.quit();
        return;
      }
      for (int i = 0; i < window.tabs()->count(); ++i)
        if (window.tabs()->tabText(i) == tabs[current]) window.tabs()->setCurrentIndex(i);
      phase.restart();
      gap.invalidate();  // the switch itself (first paint of a tab) is not a refresh
      app.timing = false;
      return;
    }
    app.timing = phase.elapsed() >= 300;
    if (!app.timing) return;  // the tab's first paint and loads are not a refresh
    if (gap.isValid()) stall_ms[tabs[current]] = std::max(stall_ms.value(tabs[current]), gap.nsecsElapsed() / 1e6);
    gap.restart();
  });
  QTimer::singleShot(1000, [&] {  // after the window's first layout
    tick.start();
  });
  app.exec();
  double longest_gap_ms = 0;
  for (double v : stall_ms) longest_gap_ms = std::max(longest_gap_ms, v);

  const double collect_max = *std::max_element(collect_ms.begin(), collect_ms.end());
  const double apply_max = *std::max_element(apply_ms.begin(), apply_ms.end());
  std::printf("100000 keys, %zu primitives, %d repetitions\n", primitives, reps);
  std::printf("  collect (off the GUI thread)  median %6.1f ms  max %6.1f ms   target <= 50 ms\n", median(collect_ms),
              collect_max);
  std::printf("  apply to models (GUI thread)  median %6.1f ms  max %6.1f ms\n", median(apply_ms), apply_max);
  std::printf("  key browser first page        %6.1f ms (%lld keys counted)\n", keys_ms, keys.total());
  std::printf("  GUI thread longest event      %6.1f ms, %d refreshes in all   target <= 16 ms\n", app.longest_ms,
              refreshes);
  std::printf("  GUI thread longest tick gap   %6.1f ms (includes time the OS gave other threads)\n", longest_gap_ms);
  std::printf("  GUI thread handling a refresh: first (fills the tables) %6.1f ms, later ones at most %6.1f ms\n",
              window.first_refresh_ms(), window.longest_refresh_ms());
  for (const QString& t : tabs) std::printf("    tick gap with %-14s in front  %6.1f ms\n", qPrintable(t), stall_ms.value(t));
  std::printf("  GUI thread events of 4 ms or more (QEvent type, receiver): slowest, how many\n");
  for (const auto& [what, s] : app.slowest) std::printf("    %-40s %6.1f ms  x%d\n", what.c_str(), s.ms, s.count);
  if (!json.isEmpty()) {
    std::ofstream out(json.toStdString());
    out << "{\"keys\": 100000, \"primitives\": " << primitives << ", \"collect_ms\": [";
    for (std::size_t i = 0; i < collect_ms.size(); ++i) out << (i ? ", " : "") << collect_ms[i];
    out << "], \"apply_ms\": [";
    for (std::size_t i = 0; i < apply_ms.size(); ++i) out << (i ? ", " : "") << apply_ms[i];
    out << "], \"keys_first_page_ms\": " << keys_ms << ", \"gui_longest_event_ms\": " << app.longest_ms << ", \"gui_longest_tick_gap_ms\": " << longest_gap_ms << ", \"gui_first_refresh_handling_ms\": " << window.first_refresh_ms()
        << ", \"gui_longest_refresh_handling_ms\": " << window.longest_refresh_ms()
        << ", \"refreshes\": " << refreshes << ", \"stall_ms_by_tab\": {";
    for (int i = 0; i < tabs.size(); ++i)
      out << (i ? ", " : "") << "\"" << tabs[i].toStdString() << "\": " << stall_ms.value(tabs[i]);
    out << "}}\n";
  }
  return 0;
}
