# python/ (the moesim package, docs/python.md) builds where pybind11 and a Python 3 with headers
# are found (AUTO) or is demanded (ON). Debian's /usr/bin/python3 is preferred over any other
# python3 on PATH: it is the interpreter that has python3-numpy and python3-pytest.
set(MOESIM_HAVE_PYTHON OFF)
if(NOT MOESIM_PYTHON STREQUAL "OFF")
  if(NOT DEFINED Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3)
  endif()
  set(PYBIND11_FINDPYTHON ON)
  find_package(Python COMPONENTS Interpreter Development.Module QUIET)
  if(Python_FOUND)
    find_package(pybind11 CONFIG QUIET)
  endif()
  if(Python_FOUND AND pybind11_FOUND)
    set(MOESIM_HAVE_PYTHON ON)
    # The core's static libraries link into the extension module, a shared object.
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  elseif(MOESIM_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "MOESIM_PYTHON=ON but pybind11 or Python 3 headers were not found")
  else()
    message(STATUS "moesim: pybind11 or Python 3 headers not found; skipping python/")
  endif()
endif()
