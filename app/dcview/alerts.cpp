#include "alerts.hpp"

#include <algorithm>

namespace dcview {
namespace {

using diskcache::PrimitiveKind;

bool is_lock(PrimitiveKind kind) {
  return kind == PrimitiveKind::Lock || kind == PrimitiveKind::RLock || kind == PrimitiveKind::SharedLock;
}

double seconds_of(const QDateTime& t) { return static_cast<double>(t.toMSecsSinceEpoch()) / 1000.0; }

}  // namespace

DashboardFigures dashboard_figures(const Snapshot& s) {
  DashboardFigures f;
  const double now = seconds_of(s.taken);
  for (const ShardPrimitive& sp : s.primitives) {
    const auto& p = sp.info;
    if (is_lock(p.kind)) {
      ++f.locks;
      f.locks_held += p.held;
      f.locks_stale += p.stale();
    } else if (p.kind == PrimitiveKind::Semaphore) {
      ++f.semaphores;
      f.semaphores_saturated += p.bound && p.in_use >= *p.bound;
    } else {
      ++f.averagers;
    }
    f.waiting += static_cast<int>(p.waiters.size());
    for (const auto& w : p.waiters) f.longest_wait = std::max(f.longest_wait, now - w.since);
  }
  for (const auto& r : s.transfers) f.transfer_failures += static_cast<int>(r.offload.failures + r.load.failures);
  return f;
}

std::vector<Alert> alerts_of(const Snapshot& s, const AlertThresholds& thresholds) {
  std::vector<Alert> alerts;
  const double now = seconds_of(s.taken);
  for (const ShardPrimitive& sp : s.primitives) {
    const auto& p = sp.info;
    if (p.kind == PrimitiveKind::Averager) continue;
    const QString tab = is_lock(p.kind) ? "Locks" : "Semaphores";
    const QString key = key_text(p.key);
    for (const auto& h : p.holders)
      if (h.state == diskcache::HolderState::Stale)
        alerts.push_back({Alert::Severity::Critical, tab, key,
                          QString("%1: holder %2 is stale (its process is gone or its lease ran out), held for %3; "
                                  "force-release it on the %4 tab")
                              .arg(key, holder_text(h), duration_text(now - h.acquired_at), tab)});
    if (p.waiters.empty()) continue;
    const auto longest = std::min_element(p.waiters.begin(), p.waiters.end(),
                                          [](const auto& a, const auto& b) { return a.since < b.since; });
    const double waited = now - longest->since;
    if (waited > thresholds.wait_seconds)
      alerts.push_back({Alert::Severity::Warning, tab, key,
                        QString("%1: %2 waiting, pid %3 for %4")
                            .arg(key)
                            .arg(p.waiters.size())
                            .arg(longest->pid)
                            .arg(duration_text(waited))});
  }
  for (const auto& r : s.transfers) {
    const QString name = QString::fromStdString(r.name);
    for (auto [label, d] : {std::pair{QString("offload"), r.offload}, std::pair{QString("load"), r.load}})
      if (d.failures > 0)
        alerts.push_back({Alert::Severity::Warning, "GPU transfers", name + " " + label,
                          QString("%1: %2 of %3 %4s failed").arg(name).arg(d.failures).arg(d.operations).arg(label)});
  }
  if (!s.skipped.empty())
    alerts.push_back({Alert::Severity::Warning, {}, {},
                      QString("%1 unreadable row(s) passed over, first: %2")
                          .arg(s.skipped.size())
                          .arg(QString::fromStdString(s.skipped.front().reason))});
  std::stable_partition(alerts.begin(), alerts.end(),
                        [](const Alert& a) { return a.severity == Alert::Severity::Critical; });
  return alerts;
}

}  // namespace dcview
