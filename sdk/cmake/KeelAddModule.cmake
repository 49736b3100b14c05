# keel_add_module(NAME <target> SOURCES <src>... MANIFEST <manifest.json>
#                 [LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
#
# Builds a Keel module library and puts its manifest beside it, so the output
# directory is itself a module path (`--module_path=<dir>`). The library's file
# name and the manifest's file name come from the manifest ("library" and
# "name" fields), so the two can never disagree.

function(keel_add_module)
  cmake_parse_arguments(ARG "NO_INSTALL" "NAME;MANIFEST;OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_NAME OR NOT ARG_SOURCES OR NOT ARG_MANIFEST)
    message(FATAL_ERROR "keel_add_module: NAME, SOURCES and MANIFEST are required")
  endif()
  get_filename_component(manifest "${ARG_MANIFEST}" ABSOLUTE)
  file(READ "${manifest}" manifest_json)
  string(JSON module_name ERROR_VARIABLE err GET "${manifest_json}" name)
  if(err)
    message(FATAL_ERROR "${manifest}: field 'name': ${err}")
  endif()
  string(JSON library ERROR_VARIABLE err GET "${manifest_json}" library)
  if(err)
    message(FATAL_ERROR "${manifest}: field 'library': ${err}")
  endif()
  if(NOT library MATCHES "^lib(.+)\\.so$")
    message(FATAL_ERROR "${manifest}: field 'library': '${library}' must look like lib<name>.so")
  endif()
  set(output_name "${CMAKE_MATCH_1}")
  string(REPLACE "/" "_" manifest_file "${module_name}")
  set(manifest_file "${manifest_file}.json")

  if(ARG_OUTPUT_DIRECTORY)
    set(out_dir "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED KEEL_BUILD_MODULE_DIR)
    set(out_dir "${KEEL_BUILD_MODULE_DIR}")
  else()
    set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/modules")
  endif()

  add_library(${ARG_NAME} MODULE ${ARG_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE Keel::sdk ${ARG_LIBRARIES})
  set_target_properties(${ARG_NAME} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "${output_name}"
    LIBRARY_OUTPUT_DIRECTORY "${out_dir}"
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # An unresolved symbol should fail the build, not the daemon's start.
  target_link_options(${ARG_NAME} PRIVATE "LINKER:--no-undefined")

  file(MAKE_DIRECTORY "${out_dir}")
  configure_file("${manifest}" "${out_dir}/${manifest_file}" COPYONLY)

  if(NOT ARG_NO_INSTALL)
    if(DEFINED KEEL_INSTALL_MODULE_DIR)
      set(install_dir "${KEEL_INSTALL_MODULE_DIR}")
    else()
      include(GNUInstallDirs)
      set(install_dir "${CMAKE_INSTALL_LIBDIR}/keel/modules")
    endif()
    install(TARGETS ${ARG_NAME} LIBRARY DESTINATION "${install_dir}" COMPONENT modules)
    install(FILES "${manifest}" DESTINATION "${install_dir}" RENAME "${manifest_file}"
            COMPONENT modules)
  endif()
endfunction()
