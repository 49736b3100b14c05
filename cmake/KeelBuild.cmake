# Build-wide settings: ccache, warnings as errors, sanitizer builds.

find_program(KEEL_CCACHE ccache)
if(KEEL_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${KEEL_CCACHE})
endif()

option(KEEL_SANITIZE "Build with AddressSanitizer and UBSan" OFF)

# Applied per target (not globally) so that generated protobuf code, which
# trips some warnings, can be compiled with a relaxed set.
function(keel_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

if(KEEL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
