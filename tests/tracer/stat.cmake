# Tests of `usdtkit stat` (issue 7). They drive the real build*/bin/usdtkit
# against stat_fixtures/stat_fixture, which fires known distributions, and
# skip (77) where BPF is not permitted. One source, one ctest per group.
add_executable(stat_fixture ${CMAKE_CURRENT_LIST_DIR}/stat_fixtures/stat_fixture.c)
set_target_properties(stat_fixture PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/tracer/stat_fixtures)
target_link_libraries(stat_fixture PRIVATE pthread ${CMAKE_DL_LIBS})
# Loaded by stat_fixture at run time (the rescan test), never linked.
add_library(stat_fixture_lib SHARED ${CMAKE_CURRENT_LIST_DIR}/stat_fixtures/stat_lib.c)
set_target_properties(stat_fixture_lib PROPERTIES
  OUTPUT_NAME statlib
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/tracer/stat_fixtures)

foreach(group counts hist latency targets usage)
  usdtkit_add_test(tracer stat_${group}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stat.c ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c
    ARGS ${group}
    DEPENDS usdtkit_cli stat_fixture stat_fixture_lib trace_fixture_trace_operands
      trace_fixture_trace_doubles
    TIMEOUT 300)
endforeach()

# The same groups through perf-event uprobes (the fallback on kernels
# without uprobe_multi), forced by the environment.
foreach(group counts latency)
  usdtkit_add_test(tracer stat_${group}_perf
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_stat.c ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c
    ARGS ${group}
    DEPENDS usdtkit_cli stat_fixture stat_fixture_lib trace_fixture_trace_operands
      trace_fixture_trace_doubles
    TIMEOUT 300)
  set_property(TEST tracer/stat_${group}_perf APPEND PROPERTY ENVIRONMENT
               USDTKIT_NO_UPROBE_MULTI=1)
endforeach()
