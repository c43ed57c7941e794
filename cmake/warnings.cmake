# Warnings for our own targets only: third-party headers come in as SYSTEM includes.
function(moesim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wfloat-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
  if(MOESIM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 with -fsanitize at -O2 reports uninitialized reads inside Boost.Graph's named_graph
    # (boost::optional), which it inlines into our code; a known false positive.
    target_compile_options(${target} PRIVATE -Wno-uninitialized -Wno-maybe-uninitialized)
  endif()
  if(MOESIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
