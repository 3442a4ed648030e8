// What an operator should look at now, taken from one snapshot: the figures
// the Overview dashboard shows and the alerts it lists. Each alert names the
// tab and row it is about, so the window can jump there.
#pragma once

#include <QString>
#include <vector>

#include "snapshot.hpp"

namespace dcview {

struct Alert {
  enum class Severity { Warning, Critical };
  Severity severity = Severity::Warning;
  QString tab;      // the tab that shows the row: "Locks", "Semaphores", "GPU transfers" (empty: none)
  QString row_key;  // the row's key in that tab's model
  QString text;     // one line, says what and who
};

struct AlertThresholds {
  double wait_seconds = 5;  // a process waiting longer than this is reported
};

// The counts of one snapshot.
struct DashboardFigures {
  int locks = 0, locks_held = 0, locks_stale = 0;
  int semaphores = 0, semaphores_saturated = 0;  // saturated: every permit taken
  int waiting = 0;                               // C++ threads waiting, over all locks and semaphores
  double longest_wait = 0;                       // seconds
  int averagers = 0;
  int transfer_failures = 0;
};

DashboardFigures dashboard_figures(const Snapshot& snapshot);

// Critical first, then in the order the tables list their rows: a stale
// holder (one alert per holder), a wait longer than the threshold (one per
// primitive, naming the longest waiter), a failed GPU transfer (one per
// offloader and direction), unreadable rows passed over (one in all).
std::vector<Alert> alerts_of(const Snapshot& snapshot, const AlertThresholds& thresholds = {});

}  // namespace dcview
