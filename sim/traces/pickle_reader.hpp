#pragma once
// The part of Python's pickle protocol (opcodes of protocols 0-5) that torch.save writes for
// tensors and plain data: None, bools, ints, floats, strings, bytes, lists, tuples, dicts, globals,
// persistent storage ids and REDUCE of torch's tensor rebuild functions. Values live in one arena
// and refer to each other by index, so a pickle that references itself can neither leak nor
// recurse when freed; walkers bound their depth.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::sim {

enum class PickleKind : std::uint8_t {
  None,
  Bool,
  Int,
  Float,
  String,
  Bytes,
  List,
  Tuple,
  Dict,
  Global,   // a class or function: text = "module.name"
  Storage,  // a persistent id ('storage', type, key, location, elements)
  Tensor,
  Object,  // anything else REDUCE or NEWOBJ built: items = [callable, args]
};

// A tensor as torch._utils._rebuild_tensor_v2/_v3 describes it; the bytes are the archive's.
struct PickleTensor {
  std::string dtype = {};        // torch's storage type name without "Storage": "Int", "Long", ...
  std::string storage_key = {};  // the archive entry data/<key>
  std::uint64_t storage_elements = 0;
  std::int64_t storage_offset = 0;
  std::vector<std::int64_t> shape = {};
  std::vector<std::int64_t> stride = {};
};

struct PickleValue {
  PickleKind kind = PickleKind::None;
  std::int64_t integer = 0;               // Int and Bool; for Tensor, the index into tensors
  double real = 0;                        // Float
  std::string text = {};                  // String, Bytes, Global
  std::vector<std::uint32_t> items = {};  // List, Tuple; Dict as key, value, key, value, ...
  std::uint64_t offset = 0;               // byte of the opcode that made it
};

struct PickleDocument {
  std::vector<PickleValue> values;
  std::vector<PickleTensor> tensors;
  std::uint32_t root = 0;

  const PickleValue& operator[](std::uint32_t index) const { return values[index]; }
  const PickleValue& root_value() const { return values[root]; }
  // The value under string key `key` of a dict, or nullptr (also when `dict` is not a dict).
  const PickleValue* find(const PickleValue& dict, std::string_view key) const;
  const PickleTensor& tensor(const PickleValue& value) const {
    return tensors[static_cast<std::size_t>(value.integer)];
  }
};

// The largest pickle accepted: values are about 100 bytes each, so this bounds memory below 1 GB.
inline constexpr std::size_t kMaxPickleValues = std::size_t{1} << 22;

// Parses one pickle; malformed or unsupported input is a TraceError naming `source` and the byte.
PickleDocument parse_pickle(std::span<const std::byte> bytes, const std::string& source);

// "an int", "a list", ... for messages.
std::string_view pickle_kind_name(PickleKind kind);

}  // namespace moesim::sim
