// diskcache-monitor [DIRECTORY | redis://host:port[/db]] [--interval MS] [--screenshot FILE.png [--delay MS]]
// Watches a cache or fanout directory live (read-only unless a person asks
// for a write). --screenshot renders the window (also offscreen, for
// headless machines), writes the PNG after the first refreshes and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QSettings>
#include <QTimer>

#include "main_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("diskcache-cpp");
  QApplication::setApplicationName("diskcache-monitor");
  QApplication::setWindowIcon(QIcon(":/icons/diskcache.png"));
  qRegisterMetaType<dcview::Snapshot>();

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
  parser.addOptions({interval, screenshot, delay, tab});
  parser.process(app);

  dcview::MainWindow window;
  QString dir = parser.positionalArguments().value(0);
  if (dir.isEmpty()) dir = QSettings().value("last_directory").toString();
  if (!dir.isEmpty()) window.open_directory(dir, std::chrono::milliseconds(parser.value(interval).toInt()));
  if (parser.isSet(tab))
    for (int i = 0; i < window.tabs()->count(); ++i)
      if (window.tabs()->tabText(i).compare(parser.value(tab), Qt::CaseInsensitive) == 0) window.tabs()->setCurrentIndex(i);
  window.show();

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    QTimer::singleShot(parser.value(delay).toInt(), &window, [&window, file] {
      const bool ok = window.grab().save(file, "PNG");
      std::fprintf(ok ? stdout : stderr, ok ? "screenshot written to %s\n" : "could not write %s\n", qPrintable(file));
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
