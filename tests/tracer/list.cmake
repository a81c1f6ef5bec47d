# Tests of `usdtkit list` (issue 4). The integration tests drive the real
# build*/bin/usdtkit and compare its view of files and processes with
# readelf's; test_list_target is a process that loads libraries and a runtime
# provider on command, libtest_list_lib.so a library with assorted probes.
set(USDTKIT_LIST_TEST_DIR ${CMAKE_BINARY_DIR}/tests/tracer)

add_library(test_list_lib SHARED ${CMAKE_CURRENT_LIST_DIR}/test_list_lib.c)
set_target_properties(test_list_lib PROPERTIES
  OUTPUT_NAME test_list_lib
  LIBRARY_OUTPUT_DIRECTORY ${USDTKIT_LIST_TEST_DIR})

add_executable(test_list_target ${CMAKE_CURRENT_LIST_DIR}/test_list_target.c)
set_target_properties(test_list_target PROPERTIES
  OUTPUT_NAME list_target
  RUNTIME_OUTPUT_DIRECTORY ${USDTKIT_LIST_TEST_DIR})
target_include_directories(test_list_target PRIVATE ${USDTKIT_INCLUDE_DIR})
target_link_libraries(test_list_target PRIVATE ${CMAKE_DL_LIBS})

set(list_test_deps usdtkit_cli test_list_lib test_list_target)
foreach(t usdtkit_fixtures usdtkit)
  if(TARGET ${t})
    list(APPEND list_test_deps ${t})
  endif()
endforeach()
set(list_util ${CMAKE_CURRENT_LIST_DIR}/test_list_util.c
  ${CMAKE_SOURCE_DIR}/tests/common/readelf_notes.c)

usdtkit_add_test(tracer list_units
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_list_units.c LIBS usdtkit_tracer_core)

usdtkit_add_test(tracer list_files
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_list_files.c ${list_util}
  DEPENDS ${list_test_deps} TIMEOUT 300)
usdtkit_add_test(tracer list_pid
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_list_pid.c ${list_util}
  DEPENDS ${list_test_deps} TIMEOUT 300)
usdtkit_add_test(tracer list_cli
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_list_cli.c ${list_util}
  DEPENDS ${list_test_deps})

# The pipeline's pure parts, without BPF: they run on any machine.
foreach(unit probe_spec lower hist output)
  usdtkit_add_test(tracer ${unit} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_${unit}.c
    LIBS usdtkit_tracer_core)
endforeach()
