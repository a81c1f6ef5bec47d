# Tests of the --filter compiler and interpreter (issue 13): the compiler
# and reference evaluator in user space, and the interpreter in the kernel
# against the reference (BPF_PROG_TEST_RUN; skips where BPF is not permitted).
set(filter_src ${CMAKE_SOURCE_DIR}/tracer/filter.c ${CMAKE_CURRENT_LIST_DIR}/filter_gen.c)

usdtkit_add_test(tracer filter SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_filter.c ${filter_src})
target_include_directories(test_tracer_filter PRIVATE ${CMAKE_SOURCE_DIR}/tracer)

usdtkit_bpf_skeleton(filter_run ${CMAKE_CURRENT_LIST_DIR}/filter_run.h
  ${CMAKE_SOURCE_DIR}/tracer/filter.h ${CMAKE_SOURCE_DIR}/tracer/filter.bpf.h
  ${CMAKE_SOURCE_DIR}/tracer/fetch.h ${CMAKE_SOURCE_DIR}/tracer/fetch.bpf.h)
usdtkit_add_test(tracer filter_bpf
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_filter_bpf.c ${filter_src}
          ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c
  LIBS PkgConfig::LIBBPF DEPENDS filter_run_skel TIMEOUT 600)
target_include_directories(test_tracer_filter_bpf PRIVATE ${CMAKE_SOURCE_DIR}/tracer ${USDTKIT_BPF_OUT})

# --filter through the real usdtkit: trace and stat on the stat fixture,
# CPython 3.11's function__entry, and the error lines.
foreach(group trace stat python errors)
  usdtkit_add_test(tracer filter_${group}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_filter_cli.c ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c
    ARGS ${group}
    DEPENDS usdtkit_cli stat_fixture
    TIMEOUT 300)
endforeach()
