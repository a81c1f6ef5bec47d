# SPDX-License-Identifier: MIT OR GPL-2.0-only
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

# Man pages: docs/man/NAME.SECTION.scd, one scdoc source each, built into
# BUILD/man/manSECTION/NAME.SECTION when scdoc is found (Debian: scdoc) and
# installed to MANDIR/manSECTION. Without scdoc the pages are skipped (and
# the packaging tests that render them skip and say so).
set(USDTKIT_MAN_PAGES "" CACHE INTERNAL "built man pages")
find_program(USDTKIT_SCDOC scdoc)
if(USDTKIT_MANPAGES AND USDTKIT_SCDOC)
  file(GLOB man_sources ${CMAKE_SOURCE_DIR}/docs/man/*.scd)
  list(SORT man_sources)
  set(pages "")
  foreach(src ${man_sources})
    get_filename_component(page ${src} NAME_WLE) # usdtkit-list.1
    string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
    set(in ${CMAKE_BINARY_DIR}/man/src/${page}.scd)
    set(out ${CMAKE_BINARY_DIR}/man/man${section}/${page})
    configure_file(${src} ${in} @ONLY) # the version in the page's footer
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man/man${section}
      COMMAND sh -c "\"$0\" < \"$1\" > \"$2\"" ${USDTKIT_SCDOC} ${in} ${out}
      DEPENDS ${in}
      COMMENT "Man page ${page}"
      VERBATIM)
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
    list(APPEND pages ${out})
  endforeach()
  add_custom_target(man ALL DEPENDS ${pages})
  set(USDTKIT_MAN_PAGES "${pages}" CACHE INTERNAL "built man pages")
elseif(USDTKIT_MANPAGES)
  message(STATUS "scdoc not found: man pages are not built (Debian: apt-get install scdoc)")
endif()

# Bash completion: into bash-completion's completionsdir when that lies in
# the install prefix (pkg-config bash-completion), else, for other prefixes
# or without bash-completion, DATADIR/bash-completion/completions.
if(NOT DEFINED USDTKIT_BASH_COMPLETION_DIR)
  set(dir ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  pkg_get_variable(bashcomp_dir bash-completion completionsdir)
  if(bashcomp_dir MATCHES "^${CMAKE_INSTALL_PREFIX}/(.+)$")
    set(dir ${CMAKE_MATCH_1})
  endif()
  set(USDTKIT_BASH_COMPLETION_DIR ${dir} CACHE STRING
      "Where the bash completion is installed (relative: to the prefix)")
endif()
install(FILES ${CMAKE_SOURCE_DIR}/completion/usdtkit.bash
        DESTINATION ${USDTKIT_BASH_COMPLETION_DIR} RENAME usdtkit)

# The licence, with the documentation (a distribution may ship its own
# copyright file instead: debian/ drops these).
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/LICENSES DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Python package is pure Python (ctypes over libusdtkit.so.0): it is
# copied into USDTKIT_PYTHON_SITEDIR, by default the interpreter's
# posix_prefix purelib directory under the install prefix (set PYTHONPATH
# to it), or e.g. lib/python3/dist-packages for Debian's interpreter.
# Relative paths are relative to the prefix. pip install ./bindings/python
# does the same with metadata for pip. The Node addon is not installed
# here: it is compiled against one Node ABI by node-gyp, which npm runs
# (npm install ./bindings/node, or npm pack bindings/node for a registry).
option(USDTKIT_INSTALL_PYTHON "Install the Python package" ON)
if(USDTKIT_INSTALL_PYTHON)
  if(NOT DEFINED USDTKIT_PYTHON_SITEDIR)
    # the system's interpreter first, as for the bindings' tests
    find_program(USDTKIT_PYTHON3_INSTALL NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
    find_program(USDTKIT_PYTHON3_INSTALL NAMES python3)
    set(sitedir lib/python3/dist-packages)
    if(USDTKIT_PYTHON3_INSTALL)
      execute_process(COMMAND ${USDTKIT_PYTHON3_INSTALL} -c
        "import sysconfig; print(sysconfig.get_path('purelib', 'posix_prefix', {'base': '@P@'}))"
        OUTPUT_VARIABLE sitedir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
      if(rc EQUAL 0)
        string(REPLACE "@P@/" "" sitedir "${sitedir}")
      else()
        set(sitedir lib/python3/dist-packages)
      endif()
    endif()
    set(USDTKIT_PYTHON_SITEDIR ${sitedir} CACHE STRING
        "Where the Python package is installed (relative: to the prefix)")
  endif()
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/bindings/python/usdtkit
          DESTINATION ${USDTKIT_PYTHON_SITEDIR}
          FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
endif()
