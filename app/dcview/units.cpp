#include "units.hpp"

#include <algorithm>
#include <cmath>

namespace dcview {

QString bytes_text(double bytes) {
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = std::max(0.0, bytes);
  int u = 0;
  // Up a unit when the figure would read 1024.0 (1073741823 bytes: "1.0 GiB").
  while ((u == 0 ? v >= 1024 : v >= 1023.95) && u < 5) {
    v /= 1024;
    ++u;
  }
  return QString("%1 %2").arg(v, 0, 'f', u ? 1 : 0).arg(units[u]);
}

QString rate_text(double bytes_per_second) { return bytes_text(bytes_per_second) + "/s"; }

QString duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  if (seconds < 0) return QString("overdue by %1").arg(duration_text(-seconds));
  if (seconds < 1) return "< 1 s";
  if (seconds < 120) return QString("%1 s").arg(static_cast<qint64>(seconds));
  if (seconds < 7200) return QString("%1 min").arg(static_cast<qint64>(seconds / 60));
  return QString("%1 h").arg(seconds / 3600, 0, 'f', 1);
}

QString precise_duration_text(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  const double ms = seconds * 1000;
  if (ms < 10) return QString("%1 ms").arg(std::max(0.0, ms), 0, 'f', 1);
  if (ms < 1000) return QString("%1 ms").arg(static_cast<qint64>(ms));
  if (seconds < 120) return QString("%1 s").arg(seconds, 0, 'f', 1);
  return duration_text(seconds);
}

}  // namespace dcview
