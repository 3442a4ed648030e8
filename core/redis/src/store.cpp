#include "diskcache/redis/store.hpp"

#include <charconv>

#include "store_impl.hpp"

namespace diskcache::redis {

namespace {
constexpr std::string_view kScheme = "redis://";

int parse_number(std::string_view text, const char* what, std::string_view url, int low, int high) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < low || value > high)
    throw InvalidArgument("redis URL " + std::string(url) + ": " + what + " '" + std::string(text) +
                          "' is not a number from " + std::to_string(low) + " to " + std::to_string(high));
  return value;
}
}  // namespace

bool is_redis_url(std::string_view text) noexcept { return text.substr(0, kScheme.size()) == kScheme; }

Endpoint Endpoint::parse(std::string_view url) {
  if (!is_redis_url(url))
    throw InvalidArgument("redis URL " + std::string(url) + ": must start with redis:// (redis://host:port/db)");
  std::string_view rest = url.substr(kScheme.size());
  Endpoint e;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const auto db = rest.substr(slash + 1);
    if (!db.empty()) e.db = parse_number(db, "database", url, 0, 1 << 20);
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    e.port = parse_number(rest.substr(colon + 1), "port", url, 1, 65535);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) throw InvalidArgument("redis URL " + std::string(url) + ": no host");
  e.host = std::string(rest);
  return e;
}

std::string Endpoint::url() const {
  return std::string(kScheme) + host + ":" + std::to_string(port) + (db ? "/" + std::to_string(db) : "");
}

Store::Store(Endpoint server, StoreOptions options)
    : Store(std::vector<Endpoint>{std::move(server)}, std::move(options)) {}

Store::Store(std::vector<Endpoint> servers, StoreOptions options) {
  if (servers.empty()) throw InvalidArgument("redis store: no server given");
  if (options.lease < std::chrono::milliseconds(30))
    throw InvalidArgument("redis store: a lease must be at least 30 ms, got " + std::to_string(options.lease.count()));
  impl_ = std::make_shared<detail::StoreImpl>(std::move(servers), std::move(options));
}

Store Store::open(std::string_view urls, StoreOptions options) {
  std::vector<Endpoint> servers;
  while (!urls.empty()) {
    const auto comma = urls.find(',');
    servers.push_back(Endpoint::parse(urls.substr(0, comma)));
    urls = comma == std::string_view::npos ? std::string_view() : urls.substr(comma + 1);
  }
  return Store(std::move(servers), std::move(options));
}

Store::~Store() = default;
Store::Store(Store&&) noexcept = default;
bool Store::quorum() const noexcept { return impl_->quorum(); }
const std::vector<Endpoint>& Store::servers() const noexcept { return impl_->servers; }
const StoreOptions& Store::options() const noexcept { return impl_->options; }

std::string Store::url() const {
  std::string out;
  for (const auto& e : impl_->servers) out += (out.empty() ? "" : ",") + e.url();
  return out;
}

void Store::ping() {
  std::size_t answered = 0;
  std::string errors;
  for (const auto& e : impl_->servers) {
    try {
      detail::Link(e, impl_->options).command({"PING"});
      ++answered;
    } catch (const Error& error) {
      errors += (errors.empty() ? "" : "; ") + std::string(error.what());
    }
  }
  if (answered < impl_->majority()) throw ConnectionError(errors);
}

namespace detail {

StoreImpl::StoreImpl(std::vector<Endpoint> s, StoreOptions o) : servers(std::move(s)), options(std::move(o)) {
  for (const auto& e : servers) keeper_links_.push_back(std::make_unique<Link>(e, options));
  if (servers.size() > 1) {
    std::vector<Link*> links;
    for (auto& link : keeper_links_) links.push_back(link.get());
    keeper_calls_ = std::make_unique<ServerCalls>(std::move(links));
  }
}

StoreImpl::~StoreImpl() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

KeyNames StoreImpl::names(const std::string& primitive, const char* state_suffix) const {
  const std::string base = options.prefix + "{" + primitive + "}:";
  return KeyNames{base + state_suffix,         base + "fence",           base + "holders",
                  options.prefix + "registry", options.prefix + "history", options.prefix + "history:id",
                  base + "wake"};
}

std::uint64_t StoreImpl::keep(Lease lease) {
  std::lock_guard guard(mutex_);
  const std::uint64_t id = next_id_++;
  leases_.emplace(id, std::move(lease));
  if (!keeper_.joinable()) keeper_ = std::thread([this] { keeper_loop(); });
  changed_.notify_all();
  return id;
}

void StoreImpl::drop(std::uint64_t id) noexcept {
  std::lock_guard guard(mutex_);
  leases_.erase(id);
}

void StoreImpl::keeper_loop() {
  std::unique_lock guard(mutex_);
  while (!stopping_) {
    // Renew every lease at a third of the shortest one.
    auto period = options.lease / 3;
    for (const auto& [id, lease] : leases_) period = std::min(period, lease.ttl / 3);
    changed_.wait_for(guard, period);
    if (stopping_) break;
    const auto due = leases_;  // renewed without holding the mutex
    guard.unlock();
    for (const auto& [id, lease] : due) renew(id, lease);
    guard.lock();
  }
}

void StoreImpl::renew(std::uint64_t id, Lease lease) {
  const auto start = std::chrono::steady_clock::now();
  std::size_t renewed = 0, refused = 0;
  if (keeper_calls_) {  // all servers at once: a hung one delays no renewal past a third of the lease
    std::string ignored;
    // By value: a late answer may run after this renewal returned.
    const auto call = [lease](Link& link) { return link.eval(*lease.extend, lease.keys, lease.args).integer(); };
    const std::size_t needed = majority();
    for (const auto& r : keeper_calls_->run(
             call, start + lease.ttl / 3,
             [needed](const auto& results) {
               std::size_t ok = 0;
               for (const auto& one : results) ok += one && *one == 1;
               return ok >= needed;
             },
             ignored))
      if (r) (*r == 1 ? renewed : refused)++;  // unanswered: counted neither way
  } else {
    for (auto& link : keeper_links_) {
      try {
        (link->eval(*lease.extend, lease.keys, lease.args).integer() == 1 ? renewed : refused)++;
      } catch (const Error&) {
        // unreachable: counted neither way; the lease stays valid until valid_until
      }
    }
  }
  std::lock_guard guard(mutex_);
  auto found = leases_.find(id);
  if (found == leases_.end()) return;  // released meanwhile
  if (renewed >= majority()) {
    found->second.valid_until->store((start + lease.ttl - drift(lease.ttl)).time_since_epoch().count());
    return;
  }
  if (refused > servers.size() - majority() ||
      std::chrono::steady_clock::now().time_since_epoch().count() >= found->second.valid_until->load()) {
    found->second.lost->store(true);
    leases_.erase(found);
  }
}

}  // namespace detail
}  // namespace diskcache::redis
