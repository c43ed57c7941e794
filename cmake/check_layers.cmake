# Fails when a file includes a header of a higher pipeline stage (run by ctest as LayerIncludes):
#   cmake -DSOURCE_DIR=<repo> -P cmake/check_layers.cmake
# The stages, bottom to top. A file may include its own stage and any stage listed before it.
# Front ends (gui/, profiler/, kernels/, sim/cli/, tests/) are not checked: they sit on top.
set(stages base topology sim/spec sim/traces sim/placement sim/routing sim/engine sim/network sim/cost
           sim/run sim/serving sim/report sim/plan sim/calibrate sim/draw)

list(LENGTH stages stage_count)
set(problems "")
foreach(index RANGE 0 ${stage_count})
  if(index EQUAL stage_count)
    break()
  endif()
  list(GET stages ${index} stage)
  file(GLOB files ${SOURCE_DIR}/${stage}/*.hpp ${SOURCE_DIR}/${stage}/*.cpp)
  foreach(file IN LISTS files)
    file(STRINGS ${file} includes REGEX "^#include \"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
      get_filename_component(folder ${header} DIRECTORY)
      list(FIND stages "${folder}" target)
      # Front-end or foreign folders (gui/, kernels/, profiler/, sim/cli/) are never allowed below.
      if(folder MATCHES "^(gui|kernels|profiler|sim/cli)$")
        set(target 1000)
      endif()
      if(target GREATER index)
        file(RELATIVE_PATH where ${SOURCE_DIR} ${file})
        string(APPEND problems "  ${where} (${stage}) includes ${header} from a higher stage\n")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "Lower stages must never include higher ones:\n${problems}")
endif()
message(STATUS "Layering: every include points down the pipeline (${stage_count} stages)")
