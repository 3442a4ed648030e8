// The value a SharedLock keeps under its key (the Python module
// core/python/diskcache_shared.py reads and writes the same; docs/format.md):
//
//   (writer, readers, waiting_writers)
//   writer          None, or (holder_id, expires_at)
//   readers         tuple of (holder_id, expires_at)
//   waiting_writers tuple of (holder_id, until)
//
// expires_at is a Unix time or None (no lease); `until` is the Unix time a
// waiting writer's announcement lapses unless it renews it. A free lock has
// no key at all. Decoding trusts nothing: a value of any other shape is
// CorruptCache naming the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "diskcache/value.hpp"

namespace diskcache::detail {

struct SharedLockEntry {
  std::string holder;
  std::optional<double> until;  // expires_at of a holder; the lapse time of a waiting writer
  bool lapsed(double now) const { return until && *until <= now; }
};

struct SharedLockState {
  std::optional<SharedLockEntry> writer;
  std::vector<SharedLockEntry> readers;
  std::vector<SharedLockEntry> waiting;

  // `what` names the lock in the error ("SharedLock 'k' in /dir").
  static SharedLockState decode(const std::optional<Value>& value, const std::string& what);
  Value encode() const;
  bool free() const { return !writer && readers.empty() && waiting.empty(); }
  // Removes holders whose lease ran out and waiting writers whose
  // announcement lapsed; returns the holder ids removed (not the waiters).
  std::vector<std::string> drop_lapsed(double now);
  bool writers_waiting(double now) const;
  SharedLockEntry* reader(const std::string& holder);
  SharedLockEntry* waiter(const std::string& holder);
  bool remove_reader(const std::string& holder);
  bool remove_waiter(const std::string& holder);
};

// A waiting writer announces itself for this long and renews the
// announcement when less than half is left: a writer killed while waiting
// holds new readers back at most this long.
inline constexpr double kWriterAnnouncement = 0.5;

}  // namespace diskcache::detail

#include "primitive_core.hpp"

namespace diskcache::detail {

// Where a SharedLock's readers and writers wait: readers on the key's slot,
// writers on a second slot, so a writer's release wakes the readers and
// the last reader's release wakes one writer. The waiter board shows
// writers under the key's waiter key and readers under the next one.
PrimitiveCore::WaitSide shared_lock_readers(const PrimitiveRows& rows);
PrimitiveCore::WaitSide shared_lock_writers(const PrimitiveRows& rows);

}  // namespace diskcache::detail
