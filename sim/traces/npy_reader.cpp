#include "sim/traces/npy_reader.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

constexpr std::string_view kNpyMagic = "\x93NUMPY";

// A cursor over the header's Python dict literal; offsets are reported in file bytes.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::uint64_t base, const std::string& source)
      : text_(text), base_(base), source_(source) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw TraceError(source_, base_ + pos_, message);
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) return ++pos_, true;
    return false;
  }
  void expect(char c, std::string_view what) {
    if (!accept(c)) fail(fmt::format("expected {} in the .npy header, got {}", what, found()));
  }
  std::string found() const {
    if (pos_ >= text_.size()) return "the end of the header";
    return fmt::format("'{}'", text_[pos_]);
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail(fmt::format("expected a quoted string in the .npy header, got {}", found()));
    const char quote = text_[pos_++];
    const auto end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("expected a closing quote in the .npy header");
    std::string value(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (auto [word, value] :
         {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}})
      if (text_.substr(pos_, word.size()) == word) return pos_ += word.size(), value;
    fail(fmt::format("expected True or False in the .npy header, got {}", found()));
  }
  std::vector<std::uint64_t> shape() {
    expect('(', "'(' opening the shape tuple");
    std::vector<std::uint64_t> dims;
    while (!accept(')')) {
      skip_space();
      if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_])))
        fail(
            fmt::format("expected a non-negative integer dimension in the shape, got {}", found()));
      std::uint64_t dim = 0;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
        const auto digit = static_cast<std::uint64_t>(text_[pos_++] - '0');
        if (dim > (UINT64_MAX - digit) / 10) fail("expected a dimension below 2^64");
        dim = dim * 10 + digit;
      }
      dims.push_back(dim);
      if (!accept(',')) {
        expect(')', "',' or ')' in the shape tuple");
        break;
      }
    }
    return dims;
  }
  std::uint64_t offset() const { return base_ + pos_; }

 private:
  std::string_view text_;
  std::uint64_t base_;
  const std::string& source_;
  std::size_t pos_ = 0;
};

// Where the header dict sits: after the magic, the version and the header length.
struct NpyPreamble {
  std::uint64_t header_at = 0;
  std::uint64_t header_length = 0;
};

NpyPreamble read_preamble(std::span<const std::byte> bytes, const std::string& source) {
  if (bytes.size() < 10)
    throw TraceError(
        source, 0,
        fmt::format("expected a .npy preamble (10 bytes), but the file ends at byte {}",
                    bytes.size()));
  if (std::memcmp(bytes.data(), kNpyMagic.data(), kNpyMagic.size()) != 0)
    throw TraceError(source, 0, "expected the .npy magic \"\\x93NUMPY\"");
  const auto major = std::to_integer<int>(bytes[6]);
  if (major < 1 || major > 3)
    throw TraceError(source, 6,
                     fmt::format("expected .npy format version 1, 2 or 3, got {}", major));
  const int length_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8U + static_cast<std::size_t>(length_bytes))
    throw TraceError(
        source, 8,
        fmt::format("expected the header length, but the file ends at byte {}", bytes.size()));
  NpyPreamble preamble;
  preamble.header_length = load_le(&bytes[8], length_bytes);
  preamble.header_at = 8 + static_cast<std::uint64_t>(length_bytes);
  if (preamble.header_length > bytes.size() - preamble.header_at)
    throw TraceError(source, 8,
                     fmt::format("expected a header of {} bytes, but the file ends at byte {}",
                                 preamble.header_length, bytes.size()));
  return preamble;
}

// The header dict's descr, fortran_order and shape; each must be there, C order.
void read_header_dict(HeaderParser& parser, std::uint64_t header_at, const std::string& source,
                      NpyArray& array) {
  std::optional<bool> fortran;
  bool have_shape = false;
  parser.expect('{', "'{' opening the header dict");
  while (!parser.accept('}')) {
    const auto key_at = parser.offset();
    const std::string key = parser.string_literal();
    parser.expect(':', "':' after a key");
    if (key == "descr") {
      array.descr = parser.string_literal();
    } else if (key == "fortran_order") {
      fortran = parser.boolean();
    } else if (key == "shape") {
      array.shape = parser.shape();
      have_shape = true;
    } else {
      throw TraceError(
          source, key_at,
          fmt::format("expected the key descr, fortran_order or shape, got '{}'", key));
    }
    if (!parser.accept(',')) {
      parser.expect('}', "',' or '}' in the header dict");
      break;
    }
  }
  if (array.descr.empty() || !fortran || !have_shape)
    throw TraceError(source, header_at,
                     "expected the header to give descr, fortran_order and shape");
  if (*fortran)
    throw TraceError(source, header_at,
                     "expected fortran_order False (save with np.ascontiguousarray)");
}

// Only little-endian integers: the dtype decides the item size and signedness.
void read_dtype(std::uint64_t header_at, const std::string& source, NpyArray& array) {
  const auto& d = array.descr;
  const bool little = d.size() == 3 && (d[0] == '<' || (d[0] == '|' && d[2] == '1'));
  if (!little || (d[1] != 'i' && d[1] != 'u') ||
      (d[2] != '1' && d[2] != '2' && d[2] != '4' && d[2] != '8'))
    throw TraceError(source, header_at,
                     fmt::format("expected a little-endian integer dtype (<i4, <i8, <u2, |u1 ...), "
                                 "got '{}'",
                                 d));
  array.item_bytes = d[2] - '0';
  array.is_signed = d[1] == 'i';
}

// The array's size in bytes, refused before it can overflow (8 bytes an item at most).
std::uint64_t data_bytes_of(const NpyArray& array, std::uint64_t header_at,
                            const std::string& source) {
  std::uint64_t count = 1;
  for (auto dim : array.shape) {
    if (dim != 0 && count > UINT64_MAX / 8 / dim)
      throw TraceError(source, header_at, "expected an array shape whose size fits in 64 bits");
    count *= dim;
  }
  return count * static_cast<std::uint64_t>(array.item_bytes);
}

}  // namespace

std::uint64_t NpyArray::elements() const {
  std::uint64_t count = 1;
  for (auto dim : shape) count *= dim;
  return count;
}

std::int64_t NpyArray::at(std::uint64_t index) const {
  const std::uint64_t raw =
      load_le(&data[index * static_cast<std::uint64_t>(item_bytes)], item_bytes);
  if (!is_signed || item_bytes == 8) return static_cast<std::int64_t>(raw);
  const std::uint64_t sign_bit = std::uint64_t{1} << (8 * item_bytes - 1);
  return static_cast<std::int64_t>((raw ^ sign_bit) - sign_bit);  // sign-extend
}

NpyArray parse_npy(std::span<const std::byte> bytes, const std::string& source) {
  const NpyPreamble preamble = read_preamble(bytes, source);
  const std::uint64_t header_at = preamble.header_at;
  const std::string_view text(reinterpret_cast<const char*>(&bytes[header_at]),
                              preamble.header_length);
  HeaderParser parser(text, header_at, source);
  NpyArray array;
  read_header_dict(parser, header_at, source, array);
  read_dtype(header_at, source, array);
  array.data_offset = header_at + preamble.header_length;
  const std::uint64_t data_bytes = data_bytes_of(array, header_at, source);
  const std::uint64_t available = bytes.size() - array.data_offset;
  if (data_bytes > available)
    throw TraceError(source, array.data_offset,
                     fmt::format("expected {} bytes of array data, but the file ends at byte {}",
                                 data_bytes, bytes.size()));
  if (data_bytes < available)
    throw TraceError(
        source, array.data_offset + data_bytes,
        fmt::format("expected the end of the file, got {} more bytes", available - data_bytes));
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(array.data_offset), bytes.end());
  return array;
}

NpyArray read_npy(const std::string& path) {
  const std::string chars = read_text_file(path);  // binary-safe; refuses directories
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return parse_npy(bytes, path);
}

}  // namespace moesim::sim
