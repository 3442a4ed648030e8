// Pickle subset codec. Encoding mirrors CPython's C pickler (protocol 5) and,
// for keys, pickletools.optimize; decoding is a small stack machine over
// shared, sealed nodes so that memo sharing works without cycles or
// unbounded expansion.
#include "diskcache/pickle.hpp"

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include "diskcache/error.hpp"
#include "utf8.hpp"

namespace diskcache::pickle {
namespace {

enum Op : unsigned char {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', BINFLOAT = 'G', BININT = 'J',
  BININT1 = 'K', BININT2 = 'M', NONE = 'N', BINUNICODE = 'X', APPEND = 'a', BINGET = 'h',
  LONG_BINGET = 'j', LIST = 'l', BINPUT = 'q', LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't',
  SETITEMS = 'u', APPENDS = 'e', DICT = 'd', EMPTY_DICT = '}', EMPTY_LIST = ']', EMPTY_TUPLE = ')',
  SHORT_BINBYTES = 'C', BINBYTES = 'B', PROTO = 0x80, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
  NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, MEMOIZE = 0x94, FRAME = 0x95,
};

constexpr std::size_t kFrameTarget = 64 * 1024;
constexpr std::size_t kBatch = 1000;

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Minimal little-endian two's complement of an int64 (pickle's encode_long).
std::string encode_long(std::int64_t v) {
  std::string out;
  put_le(out, static_cast<std::uint64_t>(v), 8);
  while (out.size() > 1) {
    const auto top = static_cast<unsigned char>(out.back());
    const auto next = static_cast<unsigned char>(out[out.size() - 2]);
    if ((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80)))
      out.pop_back();
    else
      break;
  }
  return out;
}

// CPython singletons: objects shared whenever they repeat, hence memoized
// (and fetched with GET) even in an optimized pickle.
bool is_singleton(const Value& v) {
  if (v.type() == Value::Type::Bytes) return v.as_bytes().size() <= 1;
  if (v.type() != Value::Type::Text) return false;
  const std::string& s = v.as_text();
  if (s.size() <= 1) return true;
  const auto lead = static_cast<unsigned char>(s[0]);
  return s.size() == 2 && (lead == 0xC2 || lead == 0xC3);  // one code point < 256
}

std::string singleton_id(const Value& v) {
  return (v.type() == Value::Type::Bytes ? "b" : "s") +
         (v.type() == Value::Type::Bytes ? v.as_bytes().data : v.as_text());
}

bool hashable(const Value& v) {
  switch (v.type()) {
    case Value::Type::List:
    case Value::Type::Dict: return false;
    case Value::Type::Tuple:
      for (const auto& item : v.items())
        if (!hashable(item)) return false;
      return true;
    default: return true;
  }
}

class Encoder {
 public:
  explicit Encoder(Form form) : form_(form) {}

  std::string run(const Value& value) {
    if (form_ != Form::Value) count_singletons(value);
    out_ = {static_cast<char>(PROTO), 5};
    save(value);
    op(std::string(1, STOP));
    if (!frame_.empty()) commit_frame(true);
    return std::move(out_);
  }

 private:
  // Objects Python shares: singletons, and in SharedKey form every string.
  bool shareable(const Value& v) const {
    return is_singleton(v) ||
           (form_ == Form::SharedKey && (v.type() == Value::Type::Text || v.type() == Value::Type::Bytes));
  }

  void count_singletons(const Value& v) {
    if (shareable(v)) {
      ++singleton_count_[singleton_id(v)];
      return;
    }
    switch (v.type()) {
      case Value::Type::Tuple:
      case Value::Type::List:
        for (const auto& item : v.items()) count_singletons(item);
        break;
      case Value::Type::Dict:
        for (const auto& [k, val] : v.pairs()) {
          count_singletons(k);
          count_singletons(val);
        }
        break;
      default: break;
    }
  }

  // One opcode with its argument, framed the way pickletools.optimize does.
  void op(std::string_view data) {
    const bool frameless = data.size() > kFrameTarget;
    commit_frame(frameless);
    (frameless ? out_ : frame_).append(data);
  }
  void op(unsigned char code) { op(std::string_view(reinterpret_cast<const char*>(&code), 1)); }

  void commit_frame(bool force) {
    if (frame_.empty() || (frame_.size() < kFrameTarget && !force)) return;
    if (frame_.size() >= 4) {
      out_ += static_cast<char>(FRAME);
      put_le(out_, frame_.size(), 8);
    }
    out_ += frame_;
    frame_.clear();
  }

  void memoize() {
    op(MEMOIZE);
    ++memo_next_;
  }
  void get(std::uint32_t index) {
    std::string data;
    if (index < 256) {
      data = {static_cast<char>(BINGET), static_cast<char>(index)};
    } else {
      data = std::string(1, static_cast<char>(LONG_BINGET));
      put_le(data, index, 4);
    }
    op(data);
  }

  // Strings and bytes: GET when a shared singleton repeats; MEMOIZE when the
  // form asks for it (always for values, only shared singletons for keys).
  void save_sized(const Value& v, unsigned char op1, unsigned char op4, unsigned char op8,
                  const std::string& payload) {
    std::string id;
    if (shareable(v)) {
      id = singleton_id(v);
      if (auto it = memo_.find(id); it != memo_.end()) return get(it->second);
    }
    std::string data;
    if (payload.size() < 256) {
      data = {static_cast<char>(op1), static_cast<char>(payload.size())};
    } else if (payload.size() <= 0xFFFFFFFFu) {
      data = std::string(1, static_cast<char>(op4));
      put_le(data, payload.size(), 4);
    } else {
      data = std::string(1, static_cast<char>(op8));
      put_le(data, payload.size(), 8);
    }
    data += payload;
    op(data);
    const bool shared = !id.empty() && (form_ == Form::Value || singleton_count_[id] > 1);
    if (shared) memo_[id] = memo_next_;
    if (form_ == Form::Value || shared) memoize();
  }

  void save_int(std::int64_t i) {
    std::string data;
    if (i >= 0 && i <= 0xFF) {
      data = {static_cast<char>(BININT1), static_cast<char>(i)};
    } else if (i >= 0 && i <= 0xFFFF) {
      data = std::string(1, static_cast<char>(BININT2));
      put_le(data, static_cast<std::uint64_t>(i), 2);
    } else if (i >= INT32_MIN && i <= INT32_MAX) {
      data = std::string(1, static_cast<char>(BININT));
      put_le(data, static_cast<std::uint64_t>(i), 4);
    } else {
      const std::string le = encode_long(i);
      data = {static_cast<char>(LONG1), static_cast<char>(le.size())};
      data += le;
    }
    op(data);
  }

  void save_big(const BigInt& big) {
    std::string data;
    if (big.le_bytes.size() < 256) {
      data = {static_cast<char>(LONG1), static_cast<char>(big.le_bytes.size())};
    } else {
      data = std::string(1, static_cast<char>(LONG4));
      put_le(data, big.le_bytes.size(), 4);
    }
    op(data + big.le_bytes);
  }

  void save_float(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    std::string data(1, static_cast<char>(BINFLOAT));
    for (int i = 7; i >= 0; --i) data += static_cast<char>((bits >> (8 * i)) & 0xFF);
    op(data);
  }

  void save(const Value& v) {
    switch (v.type()) {
      case Value::Type::None: return op(NONE);
      case Value::Type::Bool: return op(v.as_bool() ? NEWTRUE : NEWFALSE);
      case Value::Type::Int: return save_int(v.as_int());
      case Value::Type::BigInt: return save_big(v.as_big_int());
      case Value::Type::Float: return save_float(v.as_double());
      case Value::Type::Text:
        if (!detail::valid_utf8(v.as_text(), true))
          throw UnsupportedValue("text is not valid UTF-8: " + v.repr().substr(0, 60));
        return save_sized(v, SHORT_BINUNICODE, BINUNICODE, BINUNICODE8, v.as_text());
      case Value::Type::Bytes:
        return save_sized(v, SHORT_BINBYTES, BINBYTES, BINBYTES8, v.as_bytes().data);
      case Value::Type::Tuple: return save_tuple(v.items());
      case Value::Type::List: return save_list(v.items());
      case Value::Type::Dict: return save_dict(v.pairs());
    }
  }

  void save_tuple(const ValueList& items) {
    if (items.empty()) return op(EMPTY_TUPLE);
    if (items.size() <= 3) {
      for (const auto& item : items) save(item);
      op(static_cast<unsigned char>(TUPLE1 + items.size() - 1));
    } else {
      op(MARK);
      for (const auto& item : items) save(item);
      op(TUPLE);
    }
    if (form_ == Form::Value) memoize();
  }

  void save_list(const ValueList& items) {
    op(EMPTY_LIST);
    if (form_ == Form::Value) memoize();
    if (items.size() == 1) {
      save(items[0]);
      return op(APPEND);
    }
    for (std::size_t done = 0; done < items.size();) {
      op(MARK);
      for (std::size_t n = 0; n < kBatch && done < items.size(); ++n) save(items[done++]);
      op(APPENDS);
    }
  }

  void save_dict(const ValuePairs& pairs) {
    for (const auto& [k, val] : pairs)
      if (!hashable(k)) throw UnsupportedValue("dict key is not hashable in Python: " + k.repr().substr(0, 60));
    op(EMPTY_DICT);
    if (form_ == Form::Value) memoize();
    if (pairs.empty()) return;
    if (pairs.size() == 1) {
      save(pairs[0].first);
      save(pairs[0].second);
      return op(SETITEM);
    }
    // CPython's batch_dict_exact: a full last batch is followed by an empty one.
    std::size_t done = 0, in_batch;
    do {
      op(MARK);
      for (in_batch = 0; in_batch < kBatch && done < pairs.size(); ++in_batch, ++done) {
        save(pairs[done].first);
        save(pairs[done].second);
      }
      op(SETITEMS);
    } while (in_batch == kBatch);
  }

  Form form_;
  std::string out_, frame_;
  std::uint32_t memo_next_ = 0;
  std::map<std::string, std::uint32_t> memo_;
  std::map<std::string, int> singleton_count_;
};

// ---------------------------------------------------------------- decoding

// A decoded object. Containers are built while open; once placed inside
// another object a node is sealed and never changes again, which rules out
// cycles and keeps each node's recorded depth exact.
struct Node {
  enum Kind { Scalar, Tuple, List, Dict } kind = Scalar;
  Value scalar;
  std::vector<std::shared_ptr<Node>> items;  // Dict: key, value, key, value...
  std::size_t depth = 0;
  bool sealed = false;
};
using NodePtr = std::shared_ptr<Node>;

const char* opcode_name(unsigned char c) {
  switch (c) {
    case 'c': return "GLOBAL";
    case 0x93: return "STACK_GLOBAL";
    case 'R': return "REDUCE";
    case 'b': return "BUILD";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 0x81: return "NEWOBJ";
    case 0x92: return "NEWOBJ_EX";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 0x82:
    case 0x83:
    case 0x84: return "EXT";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    case 'S':
    case 'T':
    case 'U': return "STRING";
    case 'V': return "UNICODE";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'L': return "LONG";
    case 'g': return "GET";
    case 'p': return "PUT";
    default: return "unknown";
  }
}

std::size_t value_hash(const Value& v) {
  switch (v.type()) {
    case Value::Type::None: return 0x9e3779b9;
    case Value::Type::Bool:
    case Value::Type::Int:
    case Value::Type::BigInt:
    case Value::Type::Float: {
      double d = 0;
      if (v.type() == Value::Type::BigInt)
        d = std::hash<std::string>{}(v.as_big_int().le_bytes);
      else
        d = v.type() == Value::Type::Bool ? (v.as_bool() ? 1 : 0) : v.as_double();
      return std::hash<double>{}(d);
    }
    case Value::Type::Text: return std::hash<std::string>{}(v.as_text());
    case Value::Type::Bytes: return std::hash<std::string>{}(v.as_bytes().data) ^ 0x5bd1e995;
    case Value::Type::Tuple: {
      std::size_t h = 0x345678;
      for (const auto& item : v.items()) h = h * 1000003 ^ value_hash(item);
      return h;
    }
    default: return 0;
  }
}

class Decoder {
 public:
  Decoder(std::string_view data, const DecodeLimits& limits)
      : data_(data), limits_(limits),
        budget_(limits.max_output ? limits.max_output : data.size() * 4 + (std::size_t{64} << 20)) {}

  Value run() {
    while (true) {
      if (pos_ >= data_.size()) fail("truncated: no STOP opcode");
      op_pos_ = pos_;
      const auto code = static_cast<unsigned char>(data_[pos_++]);
      if (code == STOP) break;
      step(code);
    }
    if (pos_ != data_.size()) fail("trailing bytes after STOP");
    if (!marks_.empty() || stack_.size() != 1) fail("STOP with an unbalanced stack");
    return materialise(*stack_.back(), 0);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw CorruptCache("malformed pickle at offset " + std::to_string(op_pos_) + ": " + why);
  }

  std::string_view take(std::uint64_t n) {
    if (n > data_.size() - pos_)
      fail("length " + std::to_string(n) + " exceeds the " + std::to_string(data_.size() - pos_) +
           " bytes present");
    auto out = data_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  std::uint64_t le(int bytes) {
    auto raw = take(static_cast<std::uint64_t>(bytes));
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(raw[i]);
    return v;
  }

  void push_scalar(Value v) {
    auto node = std::make_shared<Node>();
    node->scalar = std::move(v);
    stack_.push_back(std::move(node));
  }
  void push_container(Node::Kind kind) {
    auto node = std::make_shared<Node>();
    node->kind = kind;
    stack_.push_back(std::move(node));
  }
  NodePtr pop() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    NodePtr n = std::move(stack_.back());
    stack_.pop_back();
    return n;
  }
  std::size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  NodePtr& top() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<NodePtr> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const std::size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<NodePtr> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                               std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }

  // Places `child` inside `parent`; the child is sealed from now on.
  void adopt(Node& parent, NodePtr child) {
    child->sealed = true;  // first: a node adopting itself is now sealed too
    if (parent.sealed) fail("container changed after it was used (not a plain-data pickle)");
    parent.depth = std::max(parent.depth, child->depth + 1);
    if (parent.depth > limits_.max_depth) fail("nesting deeper than " + std::to_string(limits_.max_depth));
    parent.items.push_back(std::move(child));
  }

  void make_tuple(std::vector<NodePtr> items) {
    auto node = std::make_shared<Node>();
    node->kind = Node::Tuple;
    for (auto& item : items) adopt(*node, std::move(item));
    stack_.push_back(std::move(node));
  }

  Node& open_container(Node::Kind kind, const char* what) {
    Node& n = *top();
    if (n.kind != kind) fail(std::string(what) + " applied to a non-" + (kind == Node::List ? "list" : "dict"));
    return n;
  }

  void memo_put(std::uint64_t index) {
    if (index > data_.size()) fail("memo index out of range");
    memo_[index] = top();
  }
  void memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is not defined");
    stack_.push_back(it->second);
  }

  void push_text(std::string_view raw) {
    if (!detail::valid_utf8(raw, true)) fail("string is not valid UTF-8");
    push_scalar(Value(std::string(raw)));
  }

  void step(unsigned char code) {
    switch (code) {
      case PROTO:
        if (static_cast<unsigned char>(take(1)[0]) > 5) fail("unsupported protocol");
        return;
      case FRAME: {
        const std::uint64_t n = le(8);
        if (n > data_.size() - pos_) fail("frame longer than the data");
        return;
      }
      case NONE: return push_scalar(Value());
      case NEWTRUE: return push_scalar(Value(true));
      case NEWFALSE: return push_scalar(Value(false));
      case BININT1: return push_scalar(Value(static_cast<std::int64_t>(le(1))));
      case BININT2: return push_scalar(Value(static_cast<std::int64_t>(le(2))));
      case BININT: return push_scalar(Value(static_cast<std::int64_t>(static_cast<std::int32_t>(le(4)))));
      case LONG1:
      case LONG4: {
        std::uint64_t n = code == LONG1 ? le(1) : le(4);
        if (code == LONG4 && n > 0x7FFFFFFF) fail("negative LONG4 length");
        return push_scalar(Value(BigInt{std::string(take(n))}));
      }
      case BINFLOAT: {
        auto raw = take(8);
        std::uint64_t bits = 0;
        for (char c : raw) bits = (bits << 8) | static_cast<unsigned char>(c);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return push_scalar(Value(d));
      }
      case SHORT_BINUNICODE: return push_text(take(le(1)));
      case BINUNICODE: return push_text(take(le(4)));
      case BINUNICODE8: return push_text(take(le(8)));
      case SHORT_BINBYTES: return push_scalar(Value(Bytes(take(le(1)))));
      case BINBYTES: return push_scalar(Value(Bytes(take(le(4)))));
      case BINBYTES8: return push_scalar(Value(Bytes(take(le(8)))));
      case EMPTY_TUPLE: return make_tuple({});
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const std::size_t n = code - TUPLE1 + 1u;
        if (stack_.size() < stack_floor() + n) fail("stack underflow");
        std::vector<NodePtr> items(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(n)),
                                   std::make_move_iterator(stack_.end()));
        stack_.resize(stack_.size() - n);
        return make_tuple(std::move(items));
      }
      case TUPLE: return make_tuple(pop_mark());
      case MARK:
        if (marks_.size() >= limits_.max_depth) fail("too many nested MARKs");
        marks_.push_back(stack_.size());
        return;
      case EMPTY_LIST: return push_container(Node::List);
      case LIST: {
        auto items = pop_mark();
        push_container(Node::List);
        for (auto& item : items) adopt(*stack_.back(), std::move(item));
        return;
      }
      case APPEND: {
        NodePtr item = pop();
        return adopt(open_container(Node::List, "APPEND"), std::move(item));
      }
      case APPENDS: {
        auto items = pop_mark();
        Node& list = open_container(Node::List, "APPENDS");
        for (auto& item : items) adopt(list, std::move(item));
        return;
      }
      case EMPTY_DICT: return push_container(Node::Dict);
      case DICT: {
        auto items = pop_mark();
        if (items.size() % 2) fail("odd number of items for DICT");
        push_container(Node::Dict);
        for (auto& item : items) adopt(*stack_.back(), std::move(item));
        return;
      }
      case SETITEM: {
        NodePtr value = pop();
        NodePtr key = pop();
        Node& dict = open_container(Node::Dict, "SETITEM");
        adopt(dict, std::move(key));
        return adopt(dict, std::move(value));
      }
      case SETITEMS: {
        auto items = pop_mark();
        if (items.size() % 2) fail("odd number of items for SETITEMS");
        Node& dict = open_container(Node::Dict, "SETITEMS");
        for (auto& item : items) adopt(dict, std::move(item));
        return;
      }
      case MEMOIZE: return memo_put(memo_.size());
      case BINPUT: return memo_put(le(1));
      case LONG_BINPUT: return memo_put(le(4));
      case BINGET: return memo_get(le(1));
      case LONG_BINGET: return memo_get(le(4));
      case POP:
        if (stack_.size() > stack_floor()) {
          stack_.pop_back();
        } else {
          pop_mark();
        }
        return;
      case POP_MARK: pop_mark(); return;
      case DUP: {
        NodePtr copy = top();
        stack_.push_back(std::move(copy));
        return;
      }
      default:
        throw UnsupportedValue("pickle opcode " + std::string(opcode_name(code)) + " (0x" +
                               "0123456789abcdef"[code >> 4] + "0123456789abcdef"[code & 15] +
                               ") at offset " + std::to_string(op_pos_) +
                               " is not supported: only None, bool, int, float, str, bytes, tuple, list and "
                               "dict are decoded, and nothing is executed");
    }
  }

  void spend(std::size_t amount) {
    if (amount > budget_) fail("decoded value larger than the decode limit");
    budget_ -= amount;
  }

  Value materialise(const Node& n, std::size_t depth) {
    if (depth > limits_.max_depth) fail("nesting too deep");
    spend(sizeof(Value));  // what an element costs in memory, not 1: the budget is bytes
    switch (n.kind) {
      case Node::Scalar:
        if (n.scalar.type() == Value::Type::Text) spend(n.scalar.as_text().size());
        if (n.scalar.type() == Value::Type::Bytes) spend(n.scalar.as_bytes().size());
        return n.scalar;
      case Node::Tuple:
      case Node::List: {
        ValueList items;
        items.reserve(n.items.size());
        for (const auto& item : n.items) items.push_back(materialise(*item, depth + 1));
        return n.kind == Node::Tuple ? Value::tuple(std::move(items)) : Value::list(std::move(items));
      }
      case Node::Dict: {
        ValuePairs pairs;
        std::unordered_multimap<std::size_t, std::size_t> index;  // hash -> position
        for (std::size_t i = 0; i + 1 < n.items.size(); i += 2) {
          Value key = materialise(*n.items[i], depth + 1);
          Value value = materialise(*n.items[i + 1], depth + 1);
          if (!hashable(key)) fail("dict key of unhashable type " + std::string(key.type_name()));
          const std::size_t h = value_hash(key);
          bool replaced = false;
          for (auto [it, end] = index.equal_range(h); it != end; ++it) {
            if (pairs[it->second].first == key) {
              pairs[it->second].second = std::move(value);  // later item wins, as in Python
              replaced = true;
              break;
            }
          }
          if (!replaced) {
            index.emplace(h, pairs.size());
            pairs.emplace_back(std::move(key), std::move(value));
          }
        }
        return Value::dict(std::move(pairs));
      }
    }
    fail("unknown node");
  }

  std::string_view data_;
  DecodeLimits limits_;
  std::size_t budget_;
  std::size_t pos_ = 0, op_pos_ = 0;
  std::vector<NodePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, NodePtr> memo_;
};

}  // namespace

std::string encode(const Value& value, Form form) { return Encoder(form).run(value); }

Value decode(std::string_view data, const DecodeLimits& limits) { return Decoder(data, limits).run(); }

}  // namespace diskcache::pickle
