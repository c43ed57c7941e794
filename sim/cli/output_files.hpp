#pragma once
// Writing the files a command produces; a failure is a runtime error (exit 3) naming the file.
#include <string>

namespace moesim::cli {

void write_text_file(const std::string& path, const std::string& text);
void append_text_file(const std::string& path, const std::string& text);

}  // namespace moesim::cli
