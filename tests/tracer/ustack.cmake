# User stacks (issue 13): the printers without BPF, and the symbolizer on
# stacks the kernel captured for real (ustack_probe.bpf.c built from
# tracer/ustack.bpf.h) in fixtures with known call chains: a PIE, a shared
# library, a runtime provider's stub and JIT-like anonymous code.
usdtkit_add_test(tracer ustack_fmt
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ustack_fmt.c ${CMAKE_SOURCE_DIR}/tracer/json.c
  LIBS usdtkit_ustack)

if(TARGET usdtkit)
  set(USDTKIT_USTACK_FIXTURES ${CMAKE_BINARY_DIR}/tests/tracer/ustack_fixtures)
  # The chain must survive as written: frame pointers, no inlining, no tail
  # calls, and the frame set up before the probe (no shrink-wrapping).
  set(ustack_fixture_flags -O1 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-shrink-wrap
      -fno-inline)
  add_library(ustack_fixture_lib SHARED ${CMAKE_CURRENT_LIST_DIR}/ustack_fixtures/ustack_lib.c)
  set_target_properties(ustack_fixture_lib PROPERTIES
    OUTPUT_NAME ustack_lib
    LIBRARY_OUTPUT_DIRECTORY ${USDTKIT_USTACK_FIXTURES})
  target_include_directories(ustack_fixture_lib PRIVATE ${USDTKIT_INCLUDE_DIR})
  target_compile_options(ustack_fixture_lib PRIVATE ${ustack_fixture_flags})
  add_executable(ustack_fixture_chain ${CMAKE_CURRENT_LIST_DIR}/ustack_fixtures/ustack_chain.c)
  set_target_properties(ustack_fixture_chain PROPERTIES
    OUTPUT_NAME ustack_chain
    POSITION_INDEPENDENT_CODE ON
    RUNTIME_OUTPUT_DIRECTORY ${USDTKIT_USTACK_FIXTURES})
  target_compile_options(ustack_fixture_chain PRIVATE ${ustack_fixture_flags} -fPIE)
  target_link_options(ustack_fixture_chain PRIVATE -pie)
  target_link_libraries(ustack_fixture_chain PRIVATE ustack_fixture_lib usdtkit)

  usdtkit_bpf_skeleton(ustack_probe ${CMAKE_CURRENT_LIST_DIR}/ustack_probe.h
                       ${CMAKE_SOURCE_DIR}/tracer/ustack.h ${CMAKE_SOURCE_DIR}/tracer/ustack.bpf.h)
  usdtkit_add_test(tracer ustack
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_ustack.c ${CMAKE_CURRENT_LIST_DIR}/tracer_test_util.c
    ${CMAKE_SOURCE_DIR}/tracer/json.c
    LIBS usdtkit_ustack usdtkit_sdt PkgConfig::LIBBPF
    DEPENDS ustack_probe_skel ustack_fixture_chain TIMEOUT 300)
  target_include_directories(test_tracer_ustack PRIVATE ${USDTKIT_BPF_OUT})
  if(TARGET usdtkit_cli)
    usdtkit_script_test(tracer/ustack_cli COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/ustack_cli.sh
      LABELS tracer TIMEOUT 300)
    # --all finds the fixture's processes by their exec (it uses the same fixture)
    usdtkit_script_test(tracer/all_cli COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/all_cli.sh
      LABELS tracer TIMEOUT 600)
  endif()
endif()
