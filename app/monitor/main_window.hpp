// The monitor's main window: tabs for the overview, locks, semaphores,
// averagers, the timeline, GPU transfers, history and keys, a status bar
// that says when the last refresh happened or what went wrong, and the
// explicit write actions (force-release, register, purge expired).
#pragma once

#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QMainWindow>
#include <QSet>
#include <QTabWidget>
#include <QTableView>
#include <functional>
#include <memory>

#include "monitor_models.hpp"
#include "poller.hpp"

namespace dcview {

class DashboardView;
class FilteredTable;
class SeriesChart;
class TimelineView;
class KeysModel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Watches `directory` (read-only); refreshes every `interval`.
  void open_directory(const QString& directory, std::chrono::milliseconds interval = std::chrono::milliseconds(1000));

  // Asked before each write; tests replace it. Returns true to go ahead.
  std::function<bool(const QString& question)> confirm;

  // Actions (also reachable from menus and shortcuts).
  // Force-releases the selected lock or semaphore row; returns what happened.
  QString force_release_selected();
  bool export_snapshot(const QString& path);
  QString register_python_primitive(const QString& key, diskcache::PrimitiveKind kind, qint64 bound);
  qint64 purge_expired();  // -1 when refused or failed

  // Takes a snapshot now (F5), and reloads the key browser.
  void refresh_now();
  // Shows the tab titled `tab` and, when `row_key` is given, selects that
  // row in its table (an alert's target). False when there is no such tab
  // or row.
  bool jump_to(const QString& tab, const QString& row_key = {});

  MonitorModels& models() { return models_; }
  QTabWidget* tabs() const { return tabs_; }
  DashboardView* dashboard() const { return dashboard_; }
  FilteredTable* locks_table() const { return locks_; }
  FilteredTable* semaphores_table() const { return semaphores_; }
  FilteredTable* history_table() const { return history_; }
  FilteredTable* averagers_table() const { return averagers_; }
  QTableView* locks_view() const;
  QTableView* semaphores_view() const;
  QTableView* history_view() const;
  SeriesChart* averager_chart() const { return averager_chart_; }
  SeriesChart* throughput_chart() const { return throughput_chart_; }
  TimelineView* timeline() const { return timeline_; }
  KeysModel* keys_model() const { return keys_model_; }
  QTableView* keys_view() const { return keys_view_; }
  QString status_text() const;
  // The time the GUI thread spent handling the first snapshot (filling the
  // tables), and the longest it spent on any later one (ms).
  double first_refresh_ms() const { return first_refresh_ms_; }
  double longest_refresh_ms() const { return longest_refresh_ms_; }

 signals:
  void refreshed();  // after each snapshot was applied

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void build_menus();
  void on_snapshot(const Snapshot& snapshot);
  // The GPU throughput between the last two snapshots over every offloader
  // and direction (bytes per second); nullopt before two were seen.
  std::optional<double> gpu_rate_now(const Snapshot& snapshot) const;
  void update_timeline();
  void update_charts();
  void copy_selected_row();
  void choose_directory();
  void remember_directory(const QString& directory);
  void rebuild_recent_menu();
  QTableView* current_table() const;  // Locks or Semaphores when shown, else null
  QWidget* table_over_chart(QAbstractItemModel* model, const QString& filter_hint, const QString& title,
                            const QString& y_label, FilteredTable*& table, SeriesChart*& chart);

  static constexpr int kAutoLanes = 6;         // timeline lanes ticked automatically
  static constexpr int kChartedAveragers = 5;  // averager lines when none is selected
  MonitorModels models_;
  std::unique_ptr<Poller> poller_;
  QTabWidget* tabs_ = nullptr;
  FilteredTable* locks_ = nullptr;
  FilteredTable* semaphores_ = nullptr;
  FilteredTable* averagers_ = nullptr;
  FilteredTable* transfers_ = nullptr;
  FilteredTable* history_ = nullptr;
  SeriesChart* averager_chart_ = nullptr;
  SeriesChart* throughput_chart_ = nullptr;
  TimelineView* timeline_ = nullptr;
  QListWidget* timeline_keys_ = nullptr;
  QComboBox* timeline_window_ = nullptr;
  QSet<QString> lane_keys_;  // keys offered as timeline lanes
  double first_refresh_ms_ = -1, longest_refresh_ms_ = 0;
  KeysModel* keys_model_ = nullptr;
  QTableView* keys_view_ = nullptr;
  QComboBox* keys_shard_ = nullptr;  // fanout directories: which shard's keys
  int keys_tab_ = -1;                // disabled for a Redis store (no keys)
  DashboardView* dashboard_ = nullptr;
  QLabel* status_ = nullptr;
  QMenu* recent_menu_ = nullptr;
};

}  // namespace dcview
