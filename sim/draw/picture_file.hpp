#pragma once
// A picture written the way every other output is: drawn into a temporary beside the target (the
// file a symbolic link leads to), removed if an interrupt or an error comes first, then renamed
// over the target, so no half-written picture ever sits under the output's name.
#include <cairo.h>

#include <functional>
#include <string>

namespace moesim::sim {

// Draws `width` x `height` pixels (points for SVG) with `draw` into `path`: SVG when it ends in
// ".svg", else PNG. Throws std::runtime_error naming `path` when cairo cannot write it (exit 3),
// ConfigError when `path` is one of the command's inputs (exit 2).
void write_picture(const std::string& path, int width, int height,
                   const std::function<void(cairo_t*)>& draw);

}  // namespace moesim::sim
