# Every dependency comes from Debian 12 packages (see README's setup command); nothing downloads.
find_package(Boost 1.74 REQUIRED)            # Boost.Graph is header-only
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(PNG REQUIRED)                  # tests decode the heat maps
find_package(PkgConfig REQUIRED)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)  # sim/draw: heat maps as PNG and SVG
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
