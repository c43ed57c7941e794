# Every dependency comes from Debian 12 packages (see README's setup command); nothing downloads.
find_package(Boost 1.74 REQUIRED)            # Boost.Graph is header-only
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt 9 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(PNG REQUIRED)                  # tests decode the heat maps
find_package(PkgConfig REQUIRED)
pkg_check_modules(CAIRO REQUIRED IMPORTED_TARGET cairo)  # sim/draw: heat maps as PNG and SVG
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
if(MOESIM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
