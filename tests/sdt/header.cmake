# Tests of the compile-time header include/usdtkit/sdt.h.
#
# Fixture programs built with the header go to ${CMAKE_BINARY_DIR}/tests/fixtures:
#   fx-hdr-c            C, -O2: every argument kind, 0 and 12 args, typed, semaphores
#   fx-hdr-c-O0         the same unoptimized (memory operands, one note per probe)
#   fx-hdr-c-classic    the same with USDT_CLASSIC_NOP (1-byte nop sites)
#   fx-hdr-twin-typed   USDT_TYPED probes ...
#   fx-hdr-twin-plain   ... and the same probes untyped: identical stapsdt notes
#   fx-hdr-cxx          C++: templates, inline functions, namespaces, enum class
#   fx-redzone          a leaf keeping red-zone locals across a probe, -O2 ...
#   fx-redzone-classic  ... and the same with USDT_CLASSIC_NOP
# They are built without sanitizers: they are subjects for readelf, gdb and
# bpftrace, and their notes must not depend on instrumentation.
set(_hdr_fx ${CMAKE_CURRENT_LIST_DIR}/header_fixtures)
set(_hdr_fx_out ${CMAKE_BINARY_DIR}/tests/fixtures)

function(_hdr_fixture name)
  cmake_parse_arguments(F "" "" "SOURCES;OPTIONS;DEFINES" ${ARGN})
  set(target hdr_fixture_${name})
  string(REPLACE "-" "_" target ${target})
  add_executable(${target} ${F_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${_hdr_fx_out})
  target_include_directories(${target} PRIVATE ${USDTKIT_INCLUDE_DIR})
  target_compile_options(${target} PRIVATE -g -fno-sanitize=all ${F_OPTIONS})
  target_link_options(${target} PRIVATE -fno-sanitize=all)
  if(F_DEFINES)
    target_compile_definitions(${target} PRIVATE ${F_DEFINES})
  endif()
endfunction()

_hdr_fixture(fx-hdr-c SOURCES ${_hdr_fx}/fx_hdr_c.c OPTIONS -O2)
_hdr_fixture(fx-hdr-c-O0 SOURCES ${_hdr_fx}/fx_hdr_c.c OPTIONS -O0)
_hdr_fixture(fx-hdr-c-classic SOURCES ${_hdr_fx}/fx_hdr_c.c OPTIONS -O2 DEFINES USDT_CLASSIC_NOP)
_hdr_fixture(fx-hdr-twin-typed SOURCES ${_hdr_fx}/fx_hdr_twin.c OPTIONS -O2 DEFINES FX_TYPED=1)
_hdr_fixture(fx-hdr-twin-plain SOURCES ${_hdr_fx}/fx_hdr_twin.c OPTIONS -O2 DEFINES FX_TYPED=0)
_hdr_fixture(fx-hdr-cxx SOURCES ${_hdr_fx}/fx_hdr_cxx.cpp OPTIONS -O2 -Wold-style-cast)
_hdr_fixture(fx-redzone SOURCES ${_hdr_fx}/fx_redzone.c OPTIONS -O2)
_hdr_fixture(fx-redzone-classic SOURCES ${_hdr_fx}/fx_redzone.c OPTIONS -O2
             DEFINES USDT_CLASSIC_NOP)
set(_hdr_fixtures hdr_fixture_fx_hdr_c hdr_fixture_fx_hdr_c_O0 hdr_fixture_fx_hdr_c_classic
    hdr_fixture_fx_hdr_twin_typed
    hdr_fixture_fx_hdr_twin_plain hdr_fixture_fx_hdr_cxx)

usdtkit_add_test(sdt header_notes SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_header_notes.c
                 DEPENDS ${_hdr_fixtures} TIMEOUT 300)
target_compile_definitions(test_sdt_header_notes PRIVATE
  HDR_CC="${CMAKE_C_COMPILER}" HDR_CXX="${CMAKE_CXX_COMPILER}"
  HDR_INCLUDE="${USDTKIT_INCLUDE_DIR}" HDR_FIXTURES="${_hdr_fx}")

foreach(mode tplist bpftrace gdb trace)
  usdtkit_add_test(sdt header_${mode} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_header_tools.c
                   ARGS ${mode} DEPENDS ${_hdr_fixtures} TIMEOUT 180)
endforeach()
# bpftrace attaches to the fixtures; nothing of it runs under the sanitizers'
# instrumentation, and two bpftrace runs at once only slow each other down.
set_tests_properties(sdt/header_trace PROPERTIES RUN_SERIAL TRUE)

# The red zone across traced probes, both site forms (fixtures fx-redzone*).
foreach(mode static bpftrace usdtkit)
  usdtkit_add_test(sdt redzone_${mode} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_redzone.c
                   ARGS ${mode} DEPENDS hdr_fixture_fx_redzone hdr_fixture_fx_redzone_classic
                   TIMEOUT 300)
endforeach()
set_tests_properties(sdt/redzone_bpftrace sdt/redzone_usdtkit PROPERTIES RUN_SERIAL TRUE)
# Sanitizer instrumentation gives the leaf a frame: the red zone is then unused.
set_property(TEST sdt/redzone_static sdt/redzone_bpftrace sdt/redzone_usdtkit
             APPEND PROPERTY LABELS nosanitize)
