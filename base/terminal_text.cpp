#include "base/terminal_text.hpp"

#include <fmt/format.h>

namespace moesim {
namespace {

// Length of the valid UTF-8 sequence starting at text[at], or 0 when it is not one.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  std::size_t length = 0;
  unsigned minimum = 0;
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2, minimum = 0x80;
  else if (lead >= 0xE0 && lead <= 0xEF)
    length = 3, minimum = 0x800;
  else if (lead >= 0xF0 && lead <= 0xF4)
    length = 4, minimum = 0x10000;
  else
    return 0;
  if (at + length > text.size()) return 0;
  unsigned code = lead & (0x7FU >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0U) != 0x80U) return 0;
    code = (code << 6) | (byte(at + i) & 0x3FU);
  }
  if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

std::string escape_for_terminal(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  const auto escape = [&out](unsigned char byte) { out += fmt::format("\\x{:02x}", byte); };
  for (std::size_t at = 0; at < text.size();) {
    const auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x80) {
      if ((byte < 0x20 && !(keep_newlines && byte == '\n')) || byte == 0x7F)
        escape(byte);
      else
        out += static_cast<char>(byte);
      ++at;
      continue;
    }
    const std::size_t length = utf8_length(text, at);
    if (length == 0) {
      escape(byte);
      ++at;
    } else if (length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[at + 1]) < 0xA0) {
      escape(byte);  // U+0080-U+009F: C1 controls (CSI is U+009B)
      escape(static_cast<unsigned char>(text[at + 1]));
      at += 2;
    } else {
      out.append(text.substr(at, length));
      at += length;
    }
  }
  return out;
}

}  // namespace moesim
