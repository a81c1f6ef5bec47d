# SPDX-License-Identifier: MIT
# The CMake package (find_package(usdtkit CONFIG)): the targets that
# runtime/ and sdt/ install with EXPORT usdtkitTargets, a config file and a
# version file. 0.x releases are compatible within a minor version.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(USDTKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/usdtkit)
install(EXPORT usdtkitTargets NAMESPACE usdtkit:: DESTINATION ${USDTKIT_CMAKE_DIR}
        FILE usdtkitTargets.cmake)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/usdtkitConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/usdtkitConfig.cmake
  INSTALL_DESTINATION ${USDTKIT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/usdtkitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/usdtkitConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/usdtkitConfigVersion.cmake
        DESTINATION ${USDTKIT_CMAKE_DIR})
