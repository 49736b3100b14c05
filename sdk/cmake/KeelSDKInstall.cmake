# Installs the SDK: the shared library (runtime), and for module authors the
# headers, public protos, generated headers, the CMake package and the template.
include(CMakePackageConfigHelpers)

file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include/keel/module.hpp abi_line
     REGEX "kModuleAbiVersion = [0-9]+")
string(REGEX MATCH "kModuleAbiVersion = ([0-9]+)" abi_match "${abi_line}")  # not the 32 of uint32_t
set(KEEL_MODULE_ABI_VERSION ${CMAKE_MATCH_1})
set(KEEL_MODULE_ABI_VERSION ${KEEL_MODULE_ABI_VERSION} PARENT_SCOPE)

set(KEEL_SDK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/KeelSDK)

install(TARGETS keel_sdk EXPORT KeelSDKTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT sdk)
install(DIRECTORY include/keel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT sdk)
install(DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/gen/keel DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT sdk FILES_MATCHING PATTERN "*.pb.h")
install(DIRECTORY proto/keel DESTINATION ${CMAKE_INSTALL_DATADIR}/keel/proto COMPONENT sdk)
install(DIRECTORY template/ DESTINATION ${CMAKE_INSTALL_DATADIR}/keel/sdk-template COMPONENT sdk)
install(EXPORT KeelSDKTargets NAMESPACE Keel:: DESTINATION ${KEEL_SDK_CMAKE_DIR} COMPONENT sdk)

configure_package_config_file(cmake/KeelSDKConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/KeelSDKConfig.cmake
  INSTALL_DESTINATION ${KEEL_SDK_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/KeelSDKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/KeelSDKConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/KeelSDKConfigVersion.cmake
  cmake/KeelAddModule.cmake
  DESTINATION ${KEEL_SDK_CMAKE_DIR} COMPONENT sdk)
