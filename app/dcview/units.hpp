// One convention for units across the monitor and the CLI's text output:
// - sizes in IEC binary units: "512 B", "1.5 KiB", "2.0 GiB" (a cache's
//   size limit is a power of two, so it reads exactly);
// - rates in the same units per second: "850.3 MiB/s";
// - durations that age while shown (held for, expires in, waiting):
//   duration_text, whole units so a table refreshed every second stays calm;
// - durations measured once (a wait, a latency): precise_duration_text.
// Machine-readable output (JSON) keeps raw numbers: bytes, bytes per
// second, Unix seconds.
#pragma once

#include <QString>

namespace dcview {

QString bytes_text(double bytes);
QString rate_text(double bytes_per_second);
// "< 1 s", "42 s", "3 min", "1.5 h"; negative: "overdue by 3 s".
QString duration_text(double seconds);
// "0.4 ms", "37 ms", "1.2 s", then as duration_text.
QString precise_duration_text(double seconds);

}  // namespace dcview
