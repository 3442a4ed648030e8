// Inspection, force-release and history of the primitives on Redis, in the
// local inspection API's types.
#include "diskcache/redis/inspect.hpp"

#include <algorithm>

#include "primitive_core.hpp"
#include "scripts.hpp"

namespace diskcache::redis {

using detail::integer_of;
using detail::text_of;

namespace {

std::vector<std::string> split(const std::string& text, char sep, std::size_t max_fields) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (out.size() + 1 < max_fields) {
    const auto at = text.find(sep, from);
    if (at == std::string::npos) break;
    out.push_back(text.substr(from, at - from));
    from = at + 1;
  }
  out.push_back(text.substr(from));
  return out;
}

std::int64_t number(const std::string& text) {
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return 0;
  }
}



// `record` as the scripts store it: "host\tboot\tpidns\tpid\tstart\tthread\tacquired_ms\tfence".
HolderInfo holder_of(const std::string& token, const std::string& record, std::optional<double> expires_at,
                     std::int64_t count) {
  HolderInfo h;
  h.id = token;
  h.count = count;
  h.expires_at = expires_at;
  const auto f = split(record, '\t', 8);
  if (f.size() == 8) {
    h.host = f[0];
    h.boot_id = f[1];
    h.pid_namespace = static_cast<std::uint64_t>(number(f[2]));
    h.pid = number(f[3]);
    h.start_time = number(f[4]);
    h.thread = number(f[5]);
    h.acquired_at = static_cast<double>(number(f[6])) / 1000.0;
    h.state = diskcache::process_state(h);
  }
  return h;
}

PrimitiveInfo info_of(const redisReply* row, double now_s) {
  // {name, kind, data, holders}
  PrimitiveInfo info;
  const auto element = detail::element_of;
  const std::string name = text_of(element(row, 0)), label = text_of(element(row, 1));
  const redisReply* data = element(row, 2);
  const redisReply* holders_flat = element(row, 3);
  info.key = Value(name);
  info.registered = true;
  const auto colon = label.find(':');
  info.kind = parse_primitive_kind(label.substr(0, colon)).value_or(PrimitiveKind::Lock);
  if (colon != std::string::npos) info.bound = number(label.substr(colon + 1));
  std::vector<std::pair<std::string, std::string>> records;
  for (std::size_t i = 0; i + 1 < detail::size_of(holders_flat); i += 2)
    records.emplace_back(text_of(element(holders_flat, i)), text_of(element(holders_flat, i + 1)));
  auto record_of = [&](const std::string& token) {
    for (const auto& [t, r] : records)
      if (t == token) return r;
    return std::string();
  };
  auto expiry = [&](std::int64_t pttl) { return pttl > 0 ? std::optional<double>(now_s + pttl / 1000.0) : std::nullopt; };
  switch (info.kind) {
    case PrimitiveKind::Lock: {
      const std::string token = text_of(element(data, 0));
      info.held = !token.empty();
      info.in_use = info.held ? 1 : 0;
      if (info.held) {
        info.expire_time = expiry(integer_of(element(data, 1)));
        info.holders.push_back(holder_of(token, record_of(token), info.expire_time, 1));
      }
      break;
    }
    case PrimitiveKind::RLock: {
      const std::string owner = text_of(element(data, 0));
      info.held = !owner.empty();
      info.in_use = info.held ? number(text_of(element(data, 1))) : 0;
      if (info.held) {
        info.expire_time = expiry(integer_of(element(data, 2)));
        info.holders.push_back(holder_of(owner, record_of(owner), info.expire_time, info.in_use));
      }
      break;
    }
    case PrimitiveKind::Semaphore:
      for (std::size_t i = 0; i + 1 < detail::size_of(data); i += 2) {
        const std::string token = text_of(element(data, i));
        const double until = static_cast<double>(number(text_of(element(data, i + 1)))) / 1000.0;
        info.holders.push_back(holder_of(token, record_of(token), until, 1));
      }
      info.in_use = static_cast<std::int64_t>(info.holders.size());
      info.held = info.in_use > 0;
      break;
    case PrimitiveKind::SharedLock:
      for (std::size_t i = 0; i + 1 < detail::size_of(data); i += 2) {
        const std::string member = text_of(element(data, i));
        const double until = static_cast<double>(number(text_of(element(data, i + 1)))) / 1000.0;
        if (member.starts_with("q:")) {
          ++info.writers_waiting;
          continue;
        }
        auto h = holder_of(member, record_of(member), until, 1);
        h.shared = member.starts_with("r:");
        info.writer = info.writer || !h.shared;
        info.holders.push_back(std::move(h));
      }
      info.in_use = static_cast<std::int64_t>(info.holders.size());
      info.held = info.in_use > 0;
      break;
    case PrimitiveKind::Averager: {
      const std::string total = text_of(element(data, 0)), count = text_of(element(data, 1));
      info.samples = number(count);
      if (info.samples > 0) {
        try {
          info.mean = std::stod(total) / static_cast<double>(info.samples);
        } catch (const std::exception&) {
          info.mean.reset();  // not a number: shown without a mean
        }
      }
      break;
    }
  }
  return info;
}

std::vector<PrimitiveInfo> inspect(Store& store, const std::string& only) {
  auto& impl = *store.impl();
  return impl.on_any_server([&](detail::Link& link) {
    const auto reply = link.eval(detail::kInspect, {impl.options.prefix + "registry"}, {impl.options.prefix, only});
    std::vector<PrimitiveInfo> out;
    if (reply.size() == 0) return out;
    const double now_s = static_cast<double>(integer_of(reply.element(0))) / 1000.0;
    for (std::size_t i = 1; i < reply.size(); ++i) out.push_back(info_of(reply.element(i), now_s));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key.as_text() < b.key.as_text(); });
    return out;
  });
}

}  // namespace

std::vector<PrimitiveInfo> inspect_primitives(Store& store) { return inspect(store, ""); }

std::optional<PrimitiveInfo> inspect_primitive(Store& store, const std::string& key) {
  if (key.empty()) throw InvalidArgument("redis inspect: the key is empty");
  auto found = inspect(store, key);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

ForceReleaseResult force_release(Store& store, const std::string& key, bool force,
                                 const std::optional<std::string>& holder_id) {
  const auto info = inspect_primitive(store, key);
  if (!info || !info->held) return ForceReleaseResult::NotHeld;
  std::vector<const HolderInfo*> targets;
  for (const auto& h : info->holders)
    if (!holder_id || h.id == *holder_id) targets.push_back(&h);
  if (targets.empty()) return ForceReleaseResult::NotHeld;
  if (!force)
    for (const auto* h : targets)
      if (h->state != HolderState::Stale) return ForceReleaseResult::RefusedAlive;

  const detail::Script* script = nullptr;
  const char* suffix = "lock";
  std::string kind = std::string(to_string(info->kind));
  switch (info->kind) {
    case PrimitiveKind::Lock: script = &detail::kLockRelease; break;
    case PrimitiveKind::RLock: script = &detail::kRLockRelease; suffix = "rlock"; break;
    case PrimitiveKind::Semaphore:
      script = &detail::kSemRelease;
      suffix = "sem";
      kind += ":" + std::to_string(info->bound.value_or(1));
      break;
    case PrimitiveKind::SharedLock:
      script = &detail::kSemRelease;  // on the holder's member
      suffix = "rw";
      break;
    case PrimitiveKind::Averager: return ForceReleaseResult::NotHeld;
  }
  // The scripts compare the token, so a holder that changed meanwhile is
  // left alone.
  detail::PrimitiveCore core(store, key, PrimitiveOptions{}, kind, suffix);
  bool released = false;
  for (const auto* h : targets) {
    std::string errors;
    for (const auto& r : core.run_all(*script, core.args(h->id, core.ttl(), "force-release"), errors))
      released |= r && *r >= (info->kind == PrimitiveKind::RLock ? 0 : 1);
    if (!errors.empty() && !released) throw ConnectionError("redis force-release " + key + ": " + errors);
  }
  return released ? ForceReleaseResult::Released : ForceReleaseResult::NotHeld;
}

std::vector<HistoryEvent> primitive_history(Store& store, std::int64_t after_id, std::size_t limit) {
  auto& impl = *store.impl();
  return impl.on_any_server([&](detail::Link& link) {
    // The list is newest first: read pages until an event at or before after_id.
    std::vector<HistoryEvent> newest_first;
    constexpr std::int64_t kPage = 256;
    for (std::int64_t from = 0; from < 10000; from += kPage) {
      const auto page = link.command({"LRANGE", impl.options.prefix + "history", std::to_string(from),
                                      std::to_string(from + kPage - 1)});
      bool reached = page.size() < static_cast<std::size_t>(kPage);
      for (std::size_t i = 0; i < page.size(); ++i) {
        // "id\tat_ms\tevent\tkind\tholder\tpid\tthread\thost\twaited_ms\tname"
        const auto f = split(text_of(page.element(i)), '\t', 10);
        if (f.size() != 10) continue;  // not ours: skipped
        HistoryEvent e;
        e.id = number(f[0]);
        if (e.id <= after_id) {
          reached = true;
          break;
        }
        e.at = static_cast<double>(number(f[1])) / 1000.0;
        e.event = f[2];
        e.kind = parse_primitive_kind(f[3]).value_or(PrimitiveKind::Lock);
        e.holder = f[4];
        e.pid = number(f[5]);
        e.thread = number(f[6]);
        e.host = f[7];
        try {
          e.waited = std::stod(f[8]) / 1000.0;
        } catch (const std::exception&) {
          e.waited = 0;
        }
        e.key = Value(f[9]);
        newest_first.push_back(std::move(e));
      }
      if (reached) break;
    }
    std::reverse(newest_first.begin(), newest_first.end());
    if (newest_first.size() > limit) newest_first.resize(limit);
    return newest_first;
  });
}

}  // namespace diskcache::redis
