# Tests of `usdtkit trace` (issue 5). They drive the real build*/bin/usdtkit
# against fixture processes from fixtures/ and skip (77) where BPF is not
# permitted.
set(USDTKIT_TRACE_FIXTURES ${CMAKE_BINARY_DIR}/tests/tracer/fixtures)

function(usdtkit_trace_fixture name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(trace_fixture_${name} ${F_SOURCES})
  set_target_properties(trace_fixture_${name} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${USDTKIT_TRACE_FIXTURES})
  target_include_directories(trace_fixture_${name} PRIVATE ${USDTKIT_INCLUDE_DIR})
  if(F_LIBS)
    target_link_libraries(trace_fixture_${name} PRIVATE ${F_LIBS})
  endif()
endfunction()

# Hand-written probes with every operand form (preprocessed assembly).
enable_language(ASM)
usdtkit_trace_fixture(trace_operands SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_operands.S
  ${CMAKE_CURRENT_LIST_DIR}/fixtures/wait_traced.c)
usdtkit_trace_fixture(trace_sema SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_sema.c)
usdtkit_trace_fixture(trace_doubles SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_doubles.c)
usdtkit_trace_fixture(trace_threads SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_threads.c
  LIBS pthread)

usdtkit_trace_fixture(trace_dlopen SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_dlopen.c
  LIBS ${CMAKE_DL_LIBS})
add_library(trace_fixture_dlib SHARED ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_dlib.c)
set_target_properties(trace_fixture_dlib PROPERTIES
  OUTPUT_NAME trace_dlib
  LIBRARY_OUTPUT_DIRECTORY ${USDTKIT_TRACE_FIXTURES})

set(trace_test_deps usdtkit_cli trace_fixture_trace_operands trace_fixture_trace_sema
  trace_fixture_trace_doubles
  trace_fixture_trace_threads trace_fixture_trace_dlopen trace_fixture_dlib)
set(trace_util ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c)

usdtkit_add_test(tracer trace_operands
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace_operands.c ${trace_util}
  DEPENDS ${trace_test_deps} TIMEOUT 300)
usdtkit_add_test(tracer trace_targets
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace_targets.c ${trace_util}
  DEPENDS ${trace_test_deps} TIMEOUT 300)

# The ring reader against real ring buffers filled by a syscall program.
usdtkit_bpf_skeleton(ring_producer ${CMAKE_CURRENT_LIST_DIR}/ring_producer.h)
usdtkit_add_test(tracer ring
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ring.c ${CMAKE_SOURCE_DIR}/tracer/ring.c ${trace_util}
  LIBS PkgConfig::LIBBPF DEPENDS ring_producer_skel)
target_include_directories(test_tracer_ring PRIVATE ${CMAKE_SOURCE_DIR}/tracer ${USDTKIT_BPF_OUT})

# Runtime providers: only when libusdtkit is part of this build.
if(TARGET usdtkit)
  usdtkit_trace_fixture(trace_runtime SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_runtime.c
    LIBS usdtkit)
  usdtkit_add_test(tracer trace_runtime
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace_runtime.c ${trace_util}
    DEPENDS ${trace_test_deps} trace_fixture_trace_runtime TIMEOUT 300)
else()
  message(STATUS "usdtkit trace: runtime provider tests skipped (no libusdtkit target)")
endif()

# Edge cases of the engine (test_inputs.c): floats, NULL and cut strings,
# an escaped comm, and distinct probes folded onto one address.
usdtkit_trace_fixture(trace_edge SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_edge.c LIBS m)
usdtkit_trace_fixture(trace_fold SOURCES ${CMAKE_CURRENT_LIST_DIR}/fixtures/trace_fold.S)
usdtkit_add_test(tracer inputs
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_inputs.c ${trace_util}
  DEPENDS ${trace_test_deps} trace_fixture_trace_edge trace_fixture_trace_fold TIMEOUT 300)
# The kernel feature probes (issue 11) and the forced perf-event fallback.
usdtkit_add_test(tracer kernel_features
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kernel_features.c
    ${CMAKE_SOURCE_DIR}/tracer/kernel_features.c ${trace_util}
  LIBS PkgConfig::LIBBPF pthread
  DEPENDS usdtkit_cli stat_fixture TIMEOUT 300)
target_include_directories(test_tracer_kernel_features PRIVATE ${CMAKE_SOURCE_DIR}/tracer)
