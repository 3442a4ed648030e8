#include "primitive_core.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include "scripts.hpp"
#include "diskcache/identity.hpp"

namespace diskcache::redis::detail {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using diskcache::self_identity;
using diskcache::self_thread_id;

std::string self_owner() {
  const auto& me = self_identity();
  return me.host + ":" + std::to_string(me.pid) + ":" + std::to_string(me.start_time) + ":" +
         std::to_string(self_thread_id());
}

std::string fresh_token() {
  thread_local std::mt19937_64 random{std::random_device{}() ^ static_cast<std::uint64_t>(self_thread_id())};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random()));
  return self_owner() + "/" + hex;
}

std::string self_record() {
  const auto& me = self_identity();
  return me.host + "\t" + me.boot_id + "\t" + std::to_string(me.pid_namespace) + "\t" + std::to_string(me.pid) +
         "\t" + std::to_string(me.start_time) + "\t" + std::to_string(self_thread_id());
}

PrimitiveCore::PrimitiveCore(Store& s, std::string k, PrimitiveOptions o, std::string kind_label,
                             const char* state_suffix)
    : store(s.impl()), key(std::move(k)), options(std::move(o)), kind(std::move(kind_label)),
      names(store->names(key, state_suffix)) {
  if (key.empty()) throw InvalidArgument("redis primitive: the key is empty");
  if (options.expire && !(*options.expire > 0))
    throw InvalidArgument("redis primitive " + key + ": expire must be positive");
  for (const auto& e : store->servers) links.push_back(std::make_unique<Link>(e, store->options));
}

PrimitiveCore::~PrimitiveCore() = default;

void PrimitiveCore::require_single_server(const char* what) const {
  if (store->quorum())
    throw InvalidArgument(std::string("redis ") + what + " " + key +
                          ": quorum mode supports Lock only (this needs a single server)");
}

milliseconds PrimitiveCore::ttl() const {
  if (options.expire) return std::max(milliseconds(1), milliseconds(static_cast<std::int64_t>(*options.expire * 1000)));
  return store->options.lease;
}

std::vector<std::string> PrimitiveCore::args(const std::string& token, milliseconds ttl_ms, const std::string& extra,
                                             double waited_ms, bool history) const {
  std::string fields;
  if (history && options.history) {
    const auto& me = self_identity();
    char waited[32];
    std::snprintf(waited, sizeof waited, "%.3f", waited_ms);
    fields = token + "\t" + std::to_string(me.pid) + "\t" + std::to_string(self_thread_id()) + "\t" + me.host +
             "\t" + waited;
  }
  return {token, std::to_string(ttl_ms.count()), self_record(), key, kind, fields, names.channel, extra};
}

std::int64_t PrimitiveCore::run(const Script& script, const std::vector<std::string>& a) {
  return links.front()->eval(script, names.script_keys(), a).integer();
}

namespace {
// Runs `call` on each link in turn (one server: nothing to wait for at once).
std::vector<std::optional<std::int64_t>> one_after_another(std::vector<std::unique_ptr<Link>>& links,
                                                           const std::function<std::int64_t(Link&)>& call,
                                                           std::string& errors) {
  std::vector<std::optional<std::int64_t>> out;
  for (auto& link : links) {
    try {
      out.push_back(call(*link));
    } catch (const Error& e) {
      out.push_back(std::nullopt);
      errors += (errors.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  return out;
}
}  // namespace

std::vector<std::optional<std::int64_t>> PrimitiveCore::run_all(const Script& script,
                                                                const std::vector<std::string>& a,
                                                                std::string& errors) {
  const auto keys = names.script_keys();
  return call_all([&script, keys, a](Link& link) { return link.eval(script, keys, a).integer(); }, errors);
}

std::vector<std::optional<std::int64_t>> PrimitiveCore::command_all(const std::vector<std::string>& argv,
                                                                    std::string& errors) {
  return call_all([argv](Link& link) { return link.command(argv).integer(); }, errors);
}

std::vector<std::optional<std::int64_t>> PrimitiveCore::call_all(const std::function<std::int64_t(Link&)>& call,
                                                                 std::string& errors) {
  if (!store->quorum()) return one_after_another(links, call, errors);
  if (!calls) {
    std::vector<Link*> raw;
    for (auto& link : links) raw.push_back(link.get());
    calls = std::make_unique<ServerCalls>(std::move(raw));
  }
  // Each call gets the connect and command timeouts, but no more than a
  // timed acquisition has left; and never less than a fair chance to
  // answer (try_lock's deadline is "now": one attempt, not zero time).
  const auto now = Clock::now();
  auto deadline = now + store->options.connect_timeout + store->options.command_timeout;
  if (call_deadline)
    deadline = std::min(deadline, std::max(*call_deadline, now + std::min(store->options.command_timeout,
                                                                            kFairCallTime)));
  const std::size_t majority = store->majority();
  return calls->run(
      call, deadline,
      [majority](const std::vector<std::optional<std::int64_t>>& results) {
        std::size_t positive = 0;
        for (const auto& r : results) positive += r && *r > 0;
        return positive >= majority;
      },
      errors);
}

std::int64_t PrimitiveCore::try_acquire(const Script& acquire, const Script* undo, const std::string& token,
                                        const std::string& extra, double waited_ms) {
  const auto start = Clock::now();
  const auto span = ttl();
  std::string errors;
  const auto results = run_all(acquire, args(token, span, extra, waited_ms), errors);
  std::size_t acquired = 0, answered = 0;
  std::int64_t fence = 0, hint = span.count();
  for (const auto& r : results) {
    if (!r) continue;
    ++answered;
    if (*r > 0) {
      ++acquired;
      fence = std::max(fence, *r);
    } else {
      hint = std::min(hint, -*r);
    }
  }
  attempt_start = start;
  const auto validity = [&] {
    return span - std::chrono::duration_cast<milliseconds>(Clock::now() - start) - store->drift(span);
  };
  if (acquired >= store->majority() && !store->quorum()) return fence;
  if (acquired >= store->majority() && validity() > milliseconds(0) && raise_fences(token, span, fence) &&
      validity() > milliseconds(0))
    return fence;
  if (undo && (acquired > 0 || answered < results.size())) {
    // Undo a partial (or unconfirmed) acquisition everywhere; quietly.
    std::string ignored;
    run_all(*undo, args(token, span, "release", 0, false), ignored);
  }
  if (answered < store->majority())
    throw ConnectionError(store->quorum() ? "redis quorum: only " + std::to_string(answered) + " of " +
                                                std::to_string(results.size()) + " servers answered (" + errors + ")"
                                          : errors);
  return -std::max<std::int64_t>(hint, 1);
}

bool PrimitiveCore::raise_fences(const std::string& token, milliseconds span, std::int64_t fence) {
  std::string ignored;
  std::size_t holding = 0;
  for (const auto& r : run_all(kFenceRaise, args(token, span, std::to_string(fence), 0, false), ignored))
    if (r && *r == 1) ++holding;
  return holding >= store->majority();
}

void PrimitiveCore::start_lease(Held& held, const Script& extend, const std::string& token) {
  // Measured from before the acquisition was sent: no server's copy can end
  // before this deadline (less the allowance for clock drift).
  held.valid_until->store((attempt_start + ttl() - store->drift(ttl())).time_since_epoch().count());
  if (options.expire) return;
  Lease lease;
  lease.extend = &extend;
  lease.keys = names.script_keys();
  lease.args = args(token, ttl(), "", 0, false);
  lease.ttl = ttl();
  lease.lost = held.lost;
  lease.valid_until = held.valid_until;
  held.lease_id = store->keep(std::move(lease));
}

void PrimitiveCore::stop_lease(Held& held) {
  if (held.lease_id) store->drop(held.lease_id);
  held.lease_id = 0;
}

namespace {
// An eventfd that becomes readable when `stop` is requested.
class StopSignal {
 public:
  explicit StopSignal(const std::stop_token& stop) {
    if (!stop.stop_possible()) return;
    fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd_ >= 0)
      callback_.emplace(stop, [fd = fd_] {
        const std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
      });
  }
  ~StopSignal() {
    callback_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

 private:
  int fd_ = -1;
  std::optional<std::stop_callback<std::function<void()>>> callback_;
};
}  // namespace

bool PrimitiveCore::wait_loop(const std::function<std::int64_t(double)>& try_once, std::optional<SteadyTime> deadline,
                              const std::stop_token& stop) {
  const auto start = Clock::now();
  auto waited_ms = [&] { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); };
  std::optional<StopSignal> signal;
  bool subscribed = false;
  // Calls made for a timed acquisition end at its deadline (quorum mode).
  struct DeadlineScope {
    PrimitiveCore& core;
    DeadlineScope(PrimitiveCore& c, std::optional<SteadyTime> d) : core(c) { core.call_deadline = d; }
    ~DeadlineScope() { core.call_deadline.reset(); }
  } deadline_scope(*this, deadline);
  while (true) {
    const std::int64_t result = try_once(waited_ms());
    if (result > 0) return true;
    const auto now = Clock::now();
    if ((deadline && now >= *deadline) || stop.stop_requested()) {
      if (deadline && *deadline > start && options.history) {
        std::string ignored;
        run_all(kRecord, args(fresh_token(), ttl(), "timeout", waited_ms()), ignored);
      }
      return false;
    }
    if (!subscribed) {  // subscribe, then try again before sleeping: no release is missed
      if (!subscriber) subscriber = std::make_unique<Subscriber>(store->servers, store->options, names.channel);
      subscriber->ensure();
      subscribed = true;
      continue;
    }
    auto timeout = std::min(milliseconds(-result), store->options.fallback_poll);
    // Quorum mode: waiters that retry in step split the servers' votes and
    // all fail again; each waits a random part of the time instead.
    if (store->quorum()) timeout = retry_delay(timeout);
    if (deadline)
      timeout = std::min(timeout, std::chrono::ceil<milliseconds>(*deadline - now));
    if (!signal) signal.emplace(stop);
    const bool woken = subscriber->wait(timeout, signal->fd());
    subscriber->ensure();  // re-subscribe where a server came back
    // A release wakes every waiter at once: spread their retries too.
    if (woken && store->quorum()) std::this_thread::sleep_for(retry_delay(kQuorumWakeSpread) - kQuorumWakeSpread / 2);
  }
}

}  // namespace diskcache::redis::detail
