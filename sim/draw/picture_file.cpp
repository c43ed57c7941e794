#include "sim/draw/picture_file.hpp"

#include <cairo-svg.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "base/interrupt_cleanup.hpp"
#include "base/text_file.hpp"

namespace moesim::sim {
namespace {

using PictureSurface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using PictureContext = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

}  // namespace

void write_picture(const std::string& path, int width, int height,
                   const std::function<void(cairo_t*)>& draw) {
  const std::string target = write_target(path);
  refuse_overwriting_an_input(target);
  const bool svg = std::filesystem::path(path).extension() == ".svg";
  const std::string temporary = temporary_path(target);
  const TemporaryFileGuard guard(temporary);
  try {  // the surface goes before the temporary does: an SVG surface holds the file open
    PictureSurface surface(svg ? cairo_svg_surface_create(temporary.c_str(), width, height)
                               : cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height),
                           cairo_surface_destroy);
    {
      const PictureContext cr(cairo_create(surface.get()), cairo_destroy);
      draw(cr.get());
    }
    cairo_surface_flush(surface.get());
    if (svg) cairo_surface_finish(surface.get());
    const cairo_status_t status =
        svg ? cairo_surface_status(surface.get())
            : cairo_surface_write_to_png(surface.get(), temporary.c_str());
    if (status != CAIRO_STATUS_SUCCESS)
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", path, cairo_status_to_string(status)));
    std::filesystem::rename(temporary, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

}  // namespace moesim::sim
