// diskcache-monitor [DIRECTORY | redis://host:port[/db]] [--interval MS] [--tab NAME]
//                   [--screenshot FILE.png [--delay MS]] [--export-json FILE]
// Watches a cache or fanout directory live (read-only unless a person asks
// for a write). --screenshot renders the window (also offscreen, for
// headless machines), writes the PNG after the first refreshes and exits.
// --export-json takes one snapshot, the one the window would show, writes
// it as JSON and exits, without a window or a display.
#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <QTimer>
#include <cstdio>
#include <optional>

#include "main_window.hpp"
#include "snapshot_json.hpp"

namespace {

// A whole number of milliseconds in [least, most], or an error naming the
// option (so `--interval abc` or `0` cannot make the monitor spin).
std::optional<int> milliseconds_option(const QCommandLineParser& parser, const QCommandLineOption& option, int least,
                                       int most) {
  bool ok = false;
  const QString text = parser.value(option);
  const int ms = text.toInt(&ok);
  if (ok && ms >= least && ms <= most) return ms;
  std::fprintf(stderr, "diskcache-monitor: --%s takes whole milliseconds from %d to %d, not '%s' (see --help)\n",
               qPrintable(option.names().last()), least, most, qPrintable(text));
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  QCommandLineParser parser;
  parser.setApplicationDescription("Live monitor for diskcache directories: locks, semaphores, averagers, GPU "
                                   "transfers, keys.");
  parser.addHelpOption();
  parser.addPositionalArgument("directory",
                               "cache or fanout directory, or a Redis store redis://host:port[/db] "
                               "(default: the last one opened)");
  QCommandLineOption interval({"i", "interval"}, "refresh interval in milliseconds (default 1000)", "ms", "1000");
  QCommandLineOption screenshot("screenshot", "write a PNG of the window to FILE and exit", "file");
  QCommandLineOption delay("delay", "with --screenshot: milliseconds to watch first (default 4000)", "ms", "4000");
  QCommandLineOption tab("tab", "tab to show first (e.g. Locks, Timeline)", "name");
  QCommandLineOption export_json("export-json",
                                 "take one snapshot, write it to FILE as JSON (what the window would show) and exit; "
                                 "needs no display",
                                 "file");
  parser.addOptions({interval, screenshot, delay, tab, export_json});
  // Arguments are read before any window system is touched: help and
  // argument errors work without a display.
  QStringList arguments;
  for (int i = 0; i < argc; ++i) arguments << QString::fromLocal8Bit(argv[i]);
  if (!parser.parse(arguments)) {
    std::fprintf(stderr, "diskcache-monitor: %s (see --help)\n", qPrintable(parser.errorText()));
    return 2;
  }
  if (parser.isSet("help")) {
    QString help = parser.helpText();
    help.replace("<executable_name>", "diskcache-monitor");  // no application object yet
    std::fputs(qPrintable(help), stdout);
    return 0;
  }
  const auto interval_ms = milliseconds_option(parser, interval, 50, 3600000);
  const auto delay_ms = milliseconds_option(parser, delay, 0, 3600000);
  if (!interval_ms || !delay_ms) return 2;
  if (parser.isSet(export_json)) {
    const QString location = parser.positionalArguments().value(0);
    if (location.isEmpty()) {
      std::fprintf(stderr, "diskcache-monitor: --export-json needs a directory or redis:// location\n");
      return 2;
    }
    QCoreApplication app(argc, argv);  // Qt Core only: no display
    const dcview::Snapshot snapshot = dcview::SnapshotSource(location).collect();
    if (!snapshot.ok()) {
      std::fprintf(stderr, "diskcache-monitor: cannot read %s: %s\n", qPrintable(location), qPrintable(snapshot.error));
      return 1;
    }
    const QString error = dcview::write_snapshot_json(snapshot, parser.value(export_json));
    if (!error.isEmpty()) {
      std::fprintf(stderr, "diskcache-monitor: %s\n", qPrintable(error));
      return 1;
    }
    return 0;
  }

  QApplication app(argc, argv);
  QApplication::setOrganizationName("diskcache-cpp");
  QApplication::setApplicationName("diskcache-monitor");
  QApplication::setWindowIcon(QIcon(":/icons/diskcache.png"));
  qRegisterMetaType<dcview::Snapshot>();

  dcview::MainWindow window;
  QString dir = parser.positionalArguments().value(0);
  if (dir.isEmpty()) dir = QSettings().value("last_directory").toString();
  if (!dir.isEmpty()) window.open_directory(dir, std::chrono::milliseconds(*interval_ms));
  if (parser.isSet(tab))
    for (int i = 0; i < window.tabs()->count(); ++i)
      if (window.tabs()->tabText(i).compare(parser.value(tab), Qt::CaseInsensitive) == 0) window.tabs()->setCurrentIndex(i);
  window.show();

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    QTimer::singleShot(*delay_ms, &window, [&window, file] {
      const bool ok = window.grab().save(file, "PNG");
      std::fprintf(ok ? stdout : stderr, ok ? "screenshot written to %s\n" : "could not write %s\n", qPrintable(file));
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
