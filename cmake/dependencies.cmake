# Every dependency comes from Debian 12 packages (see README's setup command); nothing downloads.
find_package(Boost 1.74 REQUIRED)            # Boost.Graph is header-only
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(PNG REQUIRED)                  # tests decode the heat maps
find_package(PkgConfig REQUIRED)
# cairo draws the heat maps (sim/draw), which the CLI and the tests link. GPU machines that build
# only the profiler (MOESIM_PROFILER_ONLY, profiler/run_on_device.sh) may not have it.
pkg_check_modules(CAIRO IMPORTED_TARGET cairo)
if(NOT CAIRO_FOUND AND NOT MOESIM_PROFILER_ONLY)
  message(FATAL_ERROR "cairo not found: install libcairo2-dev (.ci/setup does), or configure with "
                      "-DMOESIM_PROFILER_ONLY=ON to build only moesim-profile and its tests")
endif()
# torch.save archives (SGLang's .pt records), numpy.savez. Found by hand: Debian 12's
# libzip-config.cmake requires the zipcmp tools, a package moesim does not need.
find_path(LIBZIP_INCLUDE_DIR zip.h REQUIRED)
find_library(LIBZIP_LIBRARY zip REQUIRED)
add_library(moesim_libzip INTERFACE)
target_include_directories(moesim_libzip SYSTEM INTERFACE ${LIBZIP_INCLUDE_DIR})
target_link_libraries(moesim_libzip INTERFACE ${LIBZIP_LIBRARY})
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
if(MOESIM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
