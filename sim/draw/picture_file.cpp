#include "sim/draw/picture_file.hpp"

#include <cairo-svg.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
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

struct CloseFile {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using PictureFile = std::unique_ptr<std::FILE, CloseFile>;

// cairo's write callback: our own file, so an I/O error is ours to name (cairo's file-name
// constructors report "error while writing to output stream" and leak on a path they cannot open).
cairo_status_t write_bytes(void* file, const unsigned char* data, unsigned int length) {
  return std::fwrite(data, 1, length, static_cast<std::FILE*>(file)) == length
             ? CAIRO_STATUS_SUCCESS
             : CAIRO_STATUS_WRITE_ERROR;
}

std::runtime_error cannot_write(const std::string& path, const char* why) {
  return std::runtime_error(fmt::format("cannot write {}: {}", path, why));
}

}  // namespace

void write_picture(const std::string& path, int width, int height,
                   const std::function<void(cairo_t*)>& draw) {
  const std::string target = write_target(path);
  refuse_overwriting_an_input(target);
  const bool svg = std::filesystem::path(path).extension() == ".svg";
  const std::string temporary = temporary_path(target);
  const TemporaryFileGuard guard(temporary);
  PictureFile file(std::fopen(temporary.c_str(), "wb"));
  if (!file) throw cannot_write(path, std::strerror(errno));
  try {  // the surface goes before the file does: an SVG surface writes its end when destroyed
    PictureSurface surface(
        svg ? cairo_svg_surface_create_for_stream(write_bytes, file.get(), width, height)
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
            : cairo_surface_write_to_png_stream(surface.get(), write_bytes, file.get());
    if (status != CAIRO_STATUS_SUCCESS) throw cannot_write(path, cairo_status_to_string(status));
    if (std::fclose(file.release()) != 0) throw cannot_write(path, std::strerror(errno));
    std::filesystem::rename(temporary, target);
  } catch (...) {
    file.reset();
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

}  // namespace moesim::sim
