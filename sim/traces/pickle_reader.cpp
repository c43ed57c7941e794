#include "sim/traces/pickle_reader.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <unordered_map>

#include "sim/traces/format.hpp"
#include "sim/traces/pickle_opcodes.hpp"

namespace moesim::sim {
namespace {

using namespace pickle_op;

class PickleParser {
 public:
  PickleParser(std::span<const std::byte> bytes, const std::string& source)
      : bytes_(bytes), source_(source) {}

  PickleDocument parse() {
    while (true) {
      op_offset_ = pos_;
      const auto op = static_cast<std::uint8_t>(read_uint(1));
      if (op == kStop) break;
      if (!scalar_op(op) && !text_op(op) && !container_op(op) && !memo_op(op) && !object_op(op))
        fail(fmt::format("expected a pickle opcode torch.save writes, got 0x{:02x}", op));
    }
    if (stack_.size() != 1 || !marks_.empty())
      fail(fmt::format("expected one value at STOP, got {} and {} open marks", stack_.size(),
                       marks_.size()));
    document_.root = stack_.back();
    return std::move(document_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw TraceError(source_, op_offset_, message);
  }

  std::uint64_t read_uint(int width) {
    if (bytes_.size() - pos_ < static_cast<std::size_t>(width))
      fail(fmt::format("expected {} more bytes, got the end of the pickle", width));
    const auto value = load_le(bytes_.data() + pos_, width);
    pos_ += static_cast<std::size_t>(width);
    return value;
  }
  std::string read_text(std::uint64_t length) {
    if (bytes_.size() - pos_ < length)
      fail(fmt::format("expected a {}-byte string, got {} bytes left", length,
                       bytes_.size() - pos_));
    std::string text(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return text;
  }
  std::string read_line() {
    const auto* begin = reinterpret_cast<const char*>(bytes_.data() + pos_);
    const auto* end = static_cast<const char*>(std::memchr(begin, '\n', bytes_.size() - pos_));
    if (end == nullptr) fail("expected a newline-terminated name, got the end of the pickle");
    std::string line(begin, end);
    pos_ += line.size() + 1;
    return line;
  }

  std::uint32_t make(PickleValue value) {
    if (document_.values.size() >= kMaxPickleValues)
      fail(fmt::format("expected at most {} pickled values", kMaxPickleValues));
    value.offset = op_offset_;
    document_.values.push_back(std::move(value));
    return static_cast<std::uint32_t>(document_.values.size() - 1);
  }
  void push(PickleValue value) { stack_.push_back(make(std::move(value))); }
  std::uint32_t pop() {
    if (stack_.empty() || (!marks_.empty() && marks_.back() == stack_.size()))
      fail("expected a value on the pickle stack, got none");
    const auto top = stack_.back();
    stack_.pop_back();
    return top;
  }
  // The values pushed since the last MARK, which is removed.
  std::vector<std::uint32_t> pop_to_mark() {
    if (marks_.empty()) fail("expected a MARK before this opcode");
    std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                                     stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  PickleValue& value_of(std::uint32_t index) { return document_.values[index]; }

  bool scalar_op(std::uint8_t op) {
    switch (op) {
      case kNone:
        push({});
        return true;
      case kNewTrue:
      case kNewFalse:
        push({.kind = PickleKind::Bool, .integer = op == kNewTrue});
        return true;
      case kBinInt:
        push({.kind = PickleKind::Int,
              .integer = static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(4)))});
        return true;
      case kBinInt1:
      case kBinInt2:
        push({.kind = PickleKind::Int,
              .integer = static_cast<std::int64_t>(read_uint(op == kBinInt1 ? 1 : 2))});
        return true;
      case kLong1:
        push({.kind = PickleKind::Int, .integer = read_long()});
        return true;
      case kBinFloat: {
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | read_uint(1);  // big-endian
        push({.kind = PickleKind::Float, .real = std::bit_cast<double>(bits)});
        return true;
      }
      case kProto:
      case kFrame:  // a frame only groups bytes that follow in order anyway
        read_uint(op == kProto ? 1 : 8);
        return true;
      default:
        return false;
    }
  }

  // Strings and bytes: the opcode gives the kind and the width of the length before the text.
  bool text_op(std::uint8_t op) {
    struct TextOp {
      std::uint8_t op;
      PickleKind kind;
      int length_bytes;
    };
    static constexpr TextOp kTextOps[] = {
        {kShortBinUnicode, PickleKind::String, 1}, {kShortBinString, PickleKind::String, 1},
        {kBinUnicode, PickleKind::String, 4},      {kBinString, PickleKind::String, 4},
        {kBinUnicode8, PickleKind::String, 8},     {kShortBinBytes, PickleKind::Bytes, 1},
        {kBinBytes, PickleKind::Bytes, 4},         {kBinBytes8, PickleKind::Bytes, 8}};
    for (const auto& text : kTextOps)
      if (text.op == op) {
        push({.kind = text.kind, .text = read_text(read_uint(text.length_bytes))});
        return true;
      }
    return false;
  }

  // LONG1: a little-endian two's-complement integer of up to 8 bytes (int64 is all moesim needs).
  std::int64_t read_long() {
    const auto length = read_uint(1);
    if (length > 8) fail(fmt::format("expected an integer of at most 8 bytes, got {}", length));
    if (length == 0) return 0;
    std::uint64_t value = read_uint(static_cast<int>(length));
    if (length < 8 && (value >> (8 * length - 1)) != 0) value |= ~std::uint64_t{0} << (8 * length);
    return static_cast<std::int64_t>(value);
  }

  bool container_op(std::uint8_t op) {
    switch (op) {
      case kMark:
        marks_.push_back(stack_.size());
        return true;
      case kEmptyList:
        push({.kind = PickleKind::List});
        return true;
      case kEmptyTuple:
        push({.kind = PickleKind::Tuple});
        return true;
      case kEmptyDict:
        push({.kind = PickleKind::Dict});
        return true;
      case kList:
        push({.kind = PickleKind::List, .items = pop_to_mark()});
        return true;
      case kTuple:
        push({.kind = PickleKind::Tuple, .items = pop_to_mark()});
        return true;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        std::vector<std::uint32_t> items(op - kTuple1 + 1);
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        push({.kind = PickleKind::Tuple, .items = std::move(items)});
        return true;
      }
      case kDict: {
        auto items = pop_to_mark();
        if (items.size() % 2 != 0) fail("expected key, value pairs after MARK");
        push({.kind = PickleKind::Dict, .items = std::move(items)});
        return true;
      }
      case kAppend:
        append({pop()});
        return true;
      case kAppends:
        append(pop_to_mark());
        return true;
      case kSetItem: {
        const auto value = pop();
        const auto key = pop();
        set_items({key, value});
        return true;
      }
      case kSetItems: {
        auto items = pop_to_mark();
        if (items.size() % 2 != 0) fail("expected key, value pairs after MARK");
        set_items(items);
        return true;
      }
      default:
        return false;
    }
  }
  void append(const std::vector<std::uint32_t>& items) {
    auto& list = value_of(top());
    if (list.kind != PickleKind::List)
      fail(fmt::format("expected a list to append to, got {}", pickle_kind_name(list.kind)));
    list.items.insert(list.items.end(), items.begin(), items.end());
  }
  void set_items(const std::vector<std::uint32_t>& items) {
    auto& dict = value_of(top());
    if (dict.kind != PickleKind::Dict)
      fail(fmt::format("expected a dict to set items in, got {}", pickle_kind_name(dict.kind)));
    dict.items.insert(dict.items.end(), items.begin(), items.end());
  }
  std::uint32_t top() {
    const auto value = pop();
    stack_.push_back(value);
    return value;
  }

  bool memo_op(std::uint8_t op) {
    switch (op) {
      case kBinPut:
        memo_[read_uint(1)] = top();
        return true;
      case kLongBinPut:
        memo_[read_uint(4)] = top();
        return true;
      case kMemoize:
        memo_[memo_.size()] = top();
        return true;
      case kBinGet:
      case kLongBinGet: {
        const auto key = read_uint(op == kBinGet ? 1 : 4);
        const auto found = memo_.find(key);
        if (found == memo_.end()) fail(fmt::format("expected memo entry {} to be set first", key));
        stack_.push_back(found->second);
        return true;
      }
      default:
        return false;
    }
  }

  bool object_op(std::uint8_t op) {
    switch (op) {
      case kGlobal: {
        auto module = read_line();
        push({.kind = PickleKind::Global, .text = module + "." + read_line()});
        return true;
      }
      case kStackGlobal: {
        const auto name = pop();
        const auto module = pop();
        if (value_of(module).kind != PickleKind::String ||
            value_of(name).kind != PickleKind::String)
          fail("expected a module and a name (strings) for STACK_GLOBAL");
        push({.kind = PickleKind::Global,
              .text = value_of(module).text + "." + value_of(name).text});
        return true;
      }
      case kBinPersId:
        push(storage(pop()));
        return true;
      case kReduce: {
        const auto args = pop();
        const auto callable = pop();
        push(reduce(callable, args));
        return true;
      }
      case kNewObjEx:
        pop();  // keyword arguments, then as NEWOBJ
        [[fallthrough]];
      case kNewObj: {
        const auto args = pop();
        const auto cls = pop();
        push({.kind = PickleKind::Object, .items = {cls, args}});
        return true;
      }
      case kBuild:
        pop();
        top();
        return true;  // state of an object moesim does not look into
      default:
        return false;
    }
  }

  const PickleValue& element(const PickleValue& tuple, std::size_t i, PickleKind kind,
                             std::string_view what) {
    if (i >= tuple.items.size() || value_of(tuple.items[i]).kind != kind)
      fail(fmt::format("expected {} as argument {} ({})", pickle_kind_name(kind), i, what));
    return value_of(tuple.items[i]);
  }

  // ('storage', torch.<Type>Storage, key, location, elements): how torch.save names the bytes.
  PickleValue storage(std::uint32_t id) {
    const auto& tuple = value_of(id);
    if (tuple.kind != PickleKind::Tuple || tuple.items.size() != 5 ||
        value_of(tuple.items[0]).text != "storage")
      fail("expected a persistent id ('storage', type, key, location, elements)");
    std::string type = element(tuple, 1, PickleKind::Global, "the storage type").text;
    const std::string key = element(tuple, 2, PickleKind::String, "the storage key").text;
    const auto elements = element(tuple, 4, PickleKind::Int, "the element count").integer;
    if (elements < 0) fail(fmt::format("expected a storage element count >= 0, got {}", elements));
    constexpr std::string_view kPrefix = "torch.", kSuffix = "Storage";
    if (type.starts_with(kPrefix)) type.erase(0, kPrefix.size());
    if (type.ends_with(kSuffix)) type.resize(type.size() - kSuffix.size());
    document_.tensors.push_back({.dtype = type,
                                 .storage_key = key,
                                 .storage_elements = static_cast<std::uint64_t>(elements)});
    return {.kind = PickleKind::Storage,
            .integer = static_cast<std::int64_t>(document_.tensors.size() - 1)};
  }

  std::vector<std::int64_t> int_tuple(const PickleValue& tuple, std::string_view what) {
    if (tuple.kind != PickleKind::Tuple) fail(fmt::format("expected a tuple of ints ({})", what));
    std::vector<std::int64_t> ints;
    for (const auto item : tuple.items) {
      if (value_of(item).kind != PickleKind::Int || value_of(item).integer < 0)
        fail(fmt::format("expected a tuple of ints >= 0 ({})", what));
      ints.push_back(value_of(item).integer);
    }
    return ints;
  }

  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) makes a tensor; v3 adds
  // the dtype (storages are untyped then). Anything else stays an opaque object.
  PickleValue reduce(std::uint32_t callable, std::uint32_t args) {
    const std::string& name = value_of(callable).text;
    const auto& tuple = value_of(args);
    if (value_of(callable).kind != PickleKind::Global || tuple.kind != PickleKind::Tuple)
      fail("expected REDUCE of a global with a tuple of arguments");
    if (name == "collections.OrderedDict") return {.kind = PickleKind::Dict};
    if (name != "torch._utils._rebuild_tensor_v2" && name != "torch._utils._rebuild_tensor_v3")
      return {.kind = PickleKind::Object, .items = {callable, args}};
    const auto& storage_value = element(tuple, 0, PickleKind::Storage, "the storage");
    PickleTensor tensor = document_.tensors[static_cast<std::size_t>(storage_value.integer)];
    tensor.storage_offset = element(tuple, 1, PickleKind::Int, "the storage offset").integer;
    if (tensor.storage_offset < 0) fail("expected a storage offset >= 0");
    tensor.shape = int_tuple(element(tuple, 2, PickleKind::Tuple, "the size"), "the size");
    tensor.stride = int_tuple(element(tuple, 3, PickleKind::Tuple, "the stride"), "the stride");
    if (tensor.shape.size() != tensor.stride.size())
      fail(fmt::format("expected as many strides as dimensions, got {} and {}",
                       tensor.stride.size(), tensor.shape.size()));
    if (name.ends_with("v3")) {
      std::string dtype = element(tuple, 6, PickleKind::Global, "the dtype").text;
      tensor.dtype = dtype.starts_with("torch.") ? dtype.substr(6) : dtype;
    }
    document_.tensors.push_back(std::move(tensor));
    return {.kind = PickleKind::Tensor,
            .integer = static_cast<std::int64_t>(document_.tensors.size() - 1)};
  }

  std::span<const std::byte> bytes_;
  const std::string& source_;
  std::size_t pos_ = 0;
  std::size_t op_offset_ = 0;
  PickleDocument document_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, std::uint32_t> memo_;
};

}  // namespace

const PickleValue* PickleDocument::find(const PickleValue& dict, std::string_view key) const {
  if (dict.kind != PickleKind::Dict) return nullptr;
  for (std::size_t i = 0; i + 1 < dict.items.size(); i += 2) {
    const auto& candidate = values[dict.items[i]];
    if (candidate.kind == PickleKind::String && candidate.text == key)
      return &values[dict.items[i + 1]];
  }
  return nullptr;
}

PickleDocument parse_pickle(std::span<const std::byte> bytes, const std::string& source) {
  return PickleParser(bytes, source).parse();
}

std::string_view pickle_kind_name(PickleKind kind) {
  constexpr std::string_view kNames[] = {"None",      "a bool",   "an int",   "a float", "a string",
                                         "bytes",     "a list",   "a tuple",  "a dict",  "a global",
                                         "a storage", "a tensor", "an object"};
  return kNames[static_cast<std::size_t>(kind)];
}

}  // namespace moesim::sim
