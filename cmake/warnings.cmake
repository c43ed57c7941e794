# Warnings for our own targets only: third-party headers come in as SYSTEM includes.
function(moesim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wfloat-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
  if(MOESIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
