# Warnings for our own targets only: third-party headers come in as SYSTEM includes.
function(moesim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wfloat-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
  if(MOESIM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 with -fsanitize at -O2 reports uninitialized reads inside Boost.Graph's named_graph
    # (boost::optional), which it inlines into our code; a known false positive.
    target_compile_options(${target} PRIVATE -Wno-uninitialized -Wno-maybe-uninitialized)
  endif()
  if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # In a unity batch clang takes one file's `using Json = nlohmann::json;` at namespace scope as
    # shadowing another file's in an anonymous namespace. GCC's release build, file for file the
    # same sources, keeps -Wshadow.
    target_compile_options(${target} PRIVATE -Wno-shadow)
  endif()
  if(MOESIM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
