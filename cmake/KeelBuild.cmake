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

# keel_protobuf_generate(TARGET t IMPORT_DIR dir OUT_DIR dir PROTOS a.proto ...
#                        [IMPORTS other_dir ...])
# Generates C++ for protos named relative to IMPORT_DIR, so generated code
# includes "keel/v1/mesos.pb.h" as the protos import it. (CMake 3.25's
# protobuf_generate names outputs relative to the source directory instead.)
function(keel_protobuf_generate)
  cmake_parse_arguments(ARG "" "TARGET;IMPORT_DIR;OUT_DIR" "PROTOS;IMPORTS" ${ARGN})
  set(extra_imports)
  foreach(dir ${ARG_IMPORTS})
    list(APPEND extra_imports -I${dir})
  endforeach()
  file(MAKE_DIRECTORY ${ARG_OUT_DIR})
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${proto} ABSOLUTE)
    file(RELATIVE_PATH rel ${ARG_IMPORT_DIR} ${abs})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outputs ${ARG_OUT_DIR}/${stem}.pb.cc ${ARG_OUT_DIR}/${stem}.pb.h)
    add_custom_command(OUTPUT ${outputs}
      COMMAND protobuf::protoc --cpp_out=${ARG_OUT_DIR} -I${ARG_IMPORT_DIR} ${extra_imports} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${rel}"
      VERBATIM)
    target_sources(${ARG_TARGET} PRIVATE ${outputs})
  endforeach()
endfunction()
