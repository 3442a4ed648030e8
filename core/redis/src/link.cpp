#include "link.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace diskcache::redis::detail {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

redisReply* call(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
}

}  // namespace

// ------------------------------------------------------------------ Reply

Reply::Reply(redisReply* owned) : r_(owned) {}
Reply::~Reply() {
  if (r_) freeReplyObject(r_);
}
Reply::Reply(Reply&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
Reply& Reply::operator=(Reply&& other) noexcept {
  if (this != &other) {
    if (r_) freeReplyObject(r_);
    r_ = std::exchange(other.r_, nullptr);
  }
  return *this;
}
bool Reply::is_nil() const { return !r_ || r_->type == REDIS_REPLY_NIL; }
bool Reply::is_integer() const { return r_ && r_->type == REDIS_REPLY_INTEGER; }
bool Reply::is_array() const { return r_ && r_->type == REDIS_REPLY_ARRAY; }
std::int64_t Reply::integer() const { return integer_of(r_); }
std::string Reply::text() const { return text_of(r_); }
std::size_t Reply::size() const { return is_array() ? r_->elements : 0; }
const redisReply* Reply::element(std::size_t i) const {
  if (i >= size()) throw Error("redis: reply has " + std::to_string(size()) + " elements, asked for " + std::to_string(i));
  return r_->element[i];
}

std::int64_t integer_of(const redisReply* r) {
  if (r && r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (r && r->type == REDIS_REPLY_STRING) {
    try {
      std::size_t used = 0;
      const long long v = std::stoll(std::string(r->str, r->len), &used);
      if (used == r->len) return v;
    } catch (const std::exception&) {
    }
  }
  throw Error("redis: expected an integer in the reply, got " + (r ? text_of(r) : std::string("nothing")));
}

std::size_t size_of(const redisReply* r) { return r && r->type == REDIS_REPLY_ARRAY ? r->elements : 0; }
const redisReply* element_of(const redisReply* r, std::size_t i) { return i < size_of(r) ? r->element[i] : nullptr; }

std::string text_of(const redisReply* r) {
  if (!r) return {};
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    default: return {};
  }
}

// ------------------------------------------------------------------ Link

Link::Link(Endpoint endpoint, const StoreOptions& options) : endpoint_(std::move(endpoint)), options_(options) {}
Link::~Link() { close(); }

void Link::close() noexcept {
  if (c_) redisFree(c_);
  c_ = nullptr;
  loaded_.clear();
}

void Link::fail(const std::string& doing) {
  std::string why = c_ && c_->err ? std::string(c_->errstr) : std::string("no reply");
  if (why.find("Resource temporarily unavailable") != std::string::npos)
    why = "no answer within " + std::to_string(options_.command_timeout.count()) + " ms";
  close();
  throw ConnectionError(endpoint_.url() + ": " + why + " (" + doing + ")");
}

redisContext* Link::connected() {
  if (c_) return c_;
  c_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(options_.connect_timeout));
  if (!c_) throw ConnectionError(endpoint_.url() + ": cannot allocate a connection");
  if (c_->err) fail("connecting");
  redisSetTimeout(c_, to_timeval(options_.command_timeout));
  redisEnableKeepAlive(c_);
  if (endpoint_.db != 0) {
    Reply r(call(c_, {"SELECT", std::to_string(endpoint_.db)}));
    if (!r.raw()) fail("selecting database " + std::to_string(endpoint_.db));
    if (r.raw()->type == REDIS_REPLY_ERROR) {
      const std::string message = r.text();
      close();
      throw ConnectionError(endpoint_.url() + ": cannot select database: " + message);
    }
  }
  return c_;
}

Reply Link::send(const std::vector<std::string>& argv, const std::string& doing) {
  for (int attempt = 0;; ++attempt) {
    const bool reused = c_ != nullptr;
    redisContext* c = connected();
    Reply r(call(c, argv));
    if (r.raw()) return r;
    // A reused connection the server closed meanwhile (a restart, an idle
    // timeout) never delivered the command: once more on a new one.
    const bool closed = c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && (errno == ECONNRESET || errno == EPIPE));
    if (!reused || !closed || attempt > 0) fail(doing);
    close();
  }
}

Reply Link::command(const std::vector<std::string>& argv) {
  Reply r = send(argv, argv.empty() ? std::string("command") : argv[0]);
  if (r.raw()->type == REDIS_REPLY_ERROR) throw Error(endpoint_.url() + ": " + argv[0] + ": " + r.text());
  return r;
}

Reply Link::eval(const Script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto found = loaded_.find(script.name);
    if (found == loaded_.end()) {
      Reply sha = command({"SCRIPT", "LOAD", script.source});
      found = loaded_.emplace(script.name, sha.text()).first;
    }
    std::vector<std::string> argv{"EVALSHA", found->second, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    Reply r = send(argv, std::string("script ") + script.name);
    if (r.raw()->type != REDIS_REPLY_ERROR) return r;
    const std::string message = r.text();
    if (message.rfind("NOSCRIPT", 0) == 0) {  // a restarted server forgot it
      loaded_.erase(script.name);
      continue;
    }
    throw Error(endpoint_.url() + ": script " + script.name + ": " + message);
  }
  throw Error(endpoint_.url() + ": script " + script.name + " could not be loaded");
}

// ------------------------------------------------------------------ Subscriber

Subscriber::Subscriber(const std::vector<Endpoint>& servers, const StoreOptions& options, std::string channel)
    : channel_(std::move(channel)), subscribed_(servers.size(), false), retry_after_(servers.size()) {
  for (const auto& e : servers) links_.push_back(std::make_unique<Link>(e, options));
}
Subscriber::~Subscriber() = default;

void Subscriber::ensure() {
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (subscribed_[i] || std::chrono::steady_clock::now() < retry_after_[i]) continue;
    try {
      Reply r = links_[i]->command({"SUBSCRIBE", channel_});
      subscribed_[i] = true;
    } catch (const Error&) {
      links_[i]->close();  // unreachable now: the bounded poll covers it; retried in a second
      retry_after_[i] = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  }
}

bool Subscriber::wait(std::chrono::milliseconds timeout, int wake_fd) {
  // Replies already read into a reader's buffer first.
  auto drain = [&](std::size_t i) {
    bool message = false;
    void* reply = nullptr;
    while (links_[i]->c_ && redisGetReplyFromReader(links_[i]->c_, &reply) == REDIS_OK && reply) {
      Reply r(static_cast<redisReply*>(reply));
      if (r.size() >= 1 && text_of(r.element(0)) == "message") message = true;
      reply = nullptr;
    }
    return message;
  };
  bool message = false;
  for (std::size_t i = 0; i < links_.size(); ++i)
    if (subscribed_[i]) message |= drain(i);
  if (message) return true;

  std::vector<pollfd> fds;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (!subscribed_[i] || !links_[i]->c_) continue;
    fds.push_back({links_[i]->c_->fd, POLLIN, 0});
    owner.push_back(i);
  }
  if (wake_fd >= 0) fds.push_back({wake_fd, POLLIN, 0});
  const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)));
  if (n <= 0) return false;
  for (std::size_t k = 0; k < owner.size(); ++k) {
    if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const std::size_t i = owner[k];
    if (redisBufferRead(links_[i]->c_) != REDIS_OK) {  // server gone: poll until it returns
      links_[i]->close();
      subscribed_[i] = false;
      continue;
    }
    message |= drain(i);
  }
  return message;
}

}  // namespace diskcache::redis::detail
