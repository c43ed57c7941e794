#include "base/terminal_text.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"

namespace moesim {
namespace {

TEST(TerminalText, ControlCharactersAreShownAsHexEscapes) {
  // ESC ] 0 ; ... BEL would retitle the window; ESC [ 2 J would clear the screen.
  EXPECT_EQ(escape_for_terminal("evil\x1b]0;pwned\x07name"), "evil\\x1b]0;pwned\\x07name");
  EXPECT_EQ(escape_for_terminal("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(escape_for_terminal("a\nb", /*keep_newlines=*/true), "a\nb");
}

TEST(TerminalText, Utf8PassesButC1ControlsAndInvalidBytesAreEscaped) {
  EXPECT_EQ(escape_for_terminal("caf\xc3\xa9 \xe2\x86\x92 ok"), "caf\xc3\xa9 \xe2\x86\x92 ok");
  // U+009B is CSI, a one-character ESC [ on terminals that honour C1 controls.
  EXPECT_EQ(escape_for_terminal("x\xc2\x9b"
                                "2Jy"),
            "x\\xc2\\x9b2Jy");
  // A lone Latin-1 byte is not UTF-8.
  EXPECT_EQ(escape_for_terminal("caf\xe9"), "caf\\xe9");
}

TEST(TerminalText, ConfigErrorMessagesAreEscaped) {
  const ConfigError error("bad\x1b[2Jname.json", {{"/name", "got \"\x1b[31mred\""}});
  EXPECT_STREQ(error.what(), "bad\\x1b[2Jname.json: /name: got \"\\x1b[31mred\"");
}

}  // namespace
}  // namespace moesim
