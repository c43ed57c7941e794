#pragma once
// Text from inputs (scenario names, file paths, JSON strings) made safe to print on a terminal:
// control characters cannot move the cursor, retitle the window or hide what follows.
#include <string>
#include <string_view>

namespace moesim {

// Every C0 control (0x00-0x1F), DEL and C1 control (U+0080-U+009F), and every byte that is not
// part of valid UTF-8, is shown as \xNN (a C1 control as its two UTF-8 bytes); a backslash stays
// as it is. With `keep_newlines`, '\n' passes through (for multi-line messages). Valid UTF-8 text
// without controls is returned unchanged.
std::string escape_for_terminal(std::string_view text, bool keep_newlines = false);

}  // namespace moesim
