#include "shared_lock_state.hpp"

#include <algorithm>

#include "diskcache/error.hpp"

namespace diskcache::detail {
namespace {

[[noreturn]] void malformed(const std::string& what, const Value& value, const char* why) {
  throw CorruptCache(what + " holds " + value.repr().substr(0, 80) + ": " + why +
                     " (a SharedLock's value is (writer, readers, waiting_writers))");
}

std::optional<double> optional_time(const Value& v, const std::string& what, const Value& whole) {
  if (v.is_none()) return std::nullopt;
  if (v.type() != Value::Type::Float && v.type() != Value::Type::Int) malformed(what, whole, "a time is not a number");
  return v.as_double();
}

SharedLockEntry entry(const Value& v, const std::string& what, const Value& whole) {
  if (v.type() != Value::Type::Tuple || v.items().size() != 2 || v.items()[0].type() != Value::Type::Text)
    malformed(what, whole, "an entry is not (holder_id, time)");
  return {v.items()[0].as_text(), optional_time(v.items()[1], what, whole)};
}

std::vector<SharedLockEntry> entries(const Value& v, const std::string& what, const Value& whole) {
  if (v.type() != Value::Type::Tuple) malformed(what, whole, "readers or waiting writers are not a tuple");
  std::vector<SharedLockEntry> out;
  out.reserve(v.items().size());
  for (const auto& item : v.items()) out.push_back(entry(item, what, whole));
  return out;
}

Value encode_entry(const SharedLockEntry& e) {
  return Value::tuple({Value(e.holder), e.until ? Value(*e.until) : Value()});
}

Value encode_entries(const std::vector<SharedLockEntry>& list) {
  std::vector<Value> items;
  items.reserve(list.size());
  for (const auto& e : list) items.push_back(encode_entry(e));
  return Value::tuple(std::move(items));
}

template <class List>
SharedLockEntry* find(List& list, const std::string& holder) {
  auto it = std::find_if(list.begin(), list.end(), [&](const SharedLockEntry& e) { return e.holder == holder; });
  return it == list.end() ? nullptr : &*it;
}

bool erase(std::vector<SharedLockEntry>& list, const std::string& holder) {
  return std::erase_if(list, [&](const SharedLockEntry& e) { return e.holder == holder; }) > 0;
}

}  // namespace

SharedLockState SharedLockState::decode(const std::optional<Value>& value, const std::string& what) {
  SharedLockState s;
  if (!value) return s;
  if (value->type() != Value::Type::Tuple || value->items().size() != 3) malformed(what, *value, "not a 3-tuple");
  const auto& items = value->items();
  if (!items[0].is_none()) s.writer = entry(items[0], what, *value);
  s.readers = entries(items[1], what, *value);
  s.waiting = entries(items[2], what, *value);
  return s;
}

Value SharedLockState::encode() const {
  return Value::tuple({writer ? encode_entry(*writer) : Value(), encode_entries(readers), encode_entries(waiting)});
}

std::vector<std::string> SharedLockState::drop_lapsed(double now) {
  std::vector<std::string> gone;
  if (writer && writer->lapsed(now)) {
    gone.push_back(writer->holder);
    writer.reset();
  }
  std::erase_if(readers, [&](const SharedLockEntry& e) {
    if (e.lapsed(now)) gone.push_back(e.holder);
    return e.lapsed(now);
  });
  std::erase_if(waiting, [&](const SharedLockEntry& e) { return e.lapsed(now); });
  return gone;
}

bool SharedLockState::writers_waiting(double now) const {
  return std::any_of(waiting.begin(), waiting.end(), [&](const SharedLockEntry& e) { return !e.lapsed(now); });
}

SharedLockEntry* SharedLockState::reader(const std::string& holder) { return find(readers, holder); }
SharedLockEntry* SharedLockState::waiter(const std::string& holder) { return find(waiting, holder); }
bool SharedLockState::remove_reader(const std::string& holder) { return erase(readers, holder); }
bool SharedLockState::remove_waiter(const std::string& holder) { return erase(waiting, holder); }

}  // namespace diskcache::detail

namespace diskcache::detail {

PrimitiveCore::WaitSide shared_lock_readers(const PrimitiveRows& rows) {
  return {rows.slot(), waiter_key(rows.db_key().key, rows.db_key().raw) + 1};
}

PrimitiveCore::WaitSide shared_lock_writers(const PrimitiveRows& rows) {
  const auto& k = rows.db_key().key;
  return {WakeBoard::slot_of(k.s + std::to_string(k.i) + "\x01writers"), waiter_key(k, rows.db_key().raw)};
}

}  // namespace diskcache::detail
