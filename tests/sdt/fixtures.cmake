# Fixture binaries: real objects with stapsdt notes that tests compare with
# readelf and tracers attach to. Built into ${CMAKE_BINARY_DIR}/tests/fixtures
# with stable names; the target usdtkit_fixtures builds them all, so any test
# can DEPENDS usdtkit_fixtures and find them at
# $USDTKIT_BUILD_DIR/tests/fixtures/<name>.
#
#   fx-sdt-basic     non-PIE, sys/sdt.h probes with 0..12 args of many types
#   fx-pie           PIE, sys/sdt.h probes, exported symbols to look up
#   fx-semaphore     sys/sdt.h probes with semaphores in .probes
#   fx-multiloc      one probe name at several locations (inlined)
#   libfx-shared.so  shared library with probes (one with a semaphore)
#   fx-shared-user   program calling libfx-shared.so (RUNPATH to this dir)
#   fx-asm-operands  hand-written notes with every operand form (x86-64 and,
#                    under provider "fxa64", aarch64 spec text)
#   fx-usdt-c        usdtkit/sdt.h probes (untyped, typed, semaphore) in C
#   fx-usdt-cxx      the same from C++
#
# Every fixture program takes [ITERATIONS [DELAY_US]] and fires its probes
# that many times (default once).
enable_language(ASM)
set(USDTKIT_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/fixtures)
set(_fx_src ${CMAKE_CURRENT_LIST_DIR}/fixtures)
add_custom_target(usdtkit_fixtures)

function(usdtkit_fixture_exe name)
  cmake_parse_arguments(F "NOPIE" "" "SOURCES;LIBS;OPTIONS" ${ARGN})
  set(target fixture_${name})
  add_executable(${target} ${F_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${USDTKIT_FIXTURE_DIR})
  # Optimized regardless of build type, so operands land in registers and
  # memory the way real programs' probes do; no sanitizers (readelf-exact
  # comparisons must not depend on instrumentation).
  target_compile_options(${target} PRIVATE -O2 -g -fno-sanitize=all ${F_OPTIONS})
  target_link_options(${target} PRIVATE -fno-sanitize=all)
  if(F_NOPIE)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
    target_compile_options(${target} PRIVATE -fno-pie)
    target_link_options(${target} PRIVATE -no-pie)
  else()
    target_compile_options(${target} PRIVATE -fpie)
    target_link_options(${target} PRIVATE -pie)
  endif()
  target_include_directories(${target} PRIVATE ${_fx_src} ${USDTKIT_INCLUDE_DIR})
  if(F_LIBS)
    target_link_libraries(${target} PRIVATE ${F_LIBS})
  endif()
  add_dependencies(usdtkit_fixtures ${target})
endfunction()

usdtkit_fixture_exe(fx-sdt-basic NOPIE SOURCES ${_fx_src}/fx_sdt_basic.c)
usdtkit_fixture_exe(fx-pie SOURCES ${_fx_src}/fx_pie.c)
usdtkit_fixture_exe(fx-semaphore SOURCES ${_fx_src}/fx_semaphore.c)
usdtkit_fixture_exe(fx-multiloc SOURCES ${_fx_src}/fx_multiloc.c)
# x86-64 code (it also carries aarch64 spec text, as data).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  usdtkit_fixture_exe(fx-asm-operands SOURCES ${_fx_src}/fx_asm_operands.S)
endif()

add_library(fixture_fx-shared SHARED ${_fx_src}/fx_shared.c ${_fx_src}/fx_shared_sema.c)
set_target_properties(fixture_fx-shared PROPERTIES
  OUTPUT_NAME fx-shared
  LIBRARY_OUTPUT_DIRECTORY ${USDTKIT_FIXTURE_DIR})
target_compile_options(fixture_fx-shared PRIVATE -O2 -g -fno-sanitize=all)
target_link_options(fixture_fx-shared PRIVATE -fno-sanitize=all)
add_dependencies(usdtkit_fixtures fixture_fx-shared)

usdtkit_fixture_exe(fx-shared-user SOURCES ${_fx_src}/fx_shared_user.c LIBS fixture_fx-shared)
set_target_properties(fixture_fx-shared-user PROPERTIES
  BUILD_RPATH ${USDTKIT_FIXTURE_DIR})

# Probes built with usdtkit's own compile-time header.
if(EXISTS ${USDTKIT_INCLUDE_DIR}/usdtkit/sdt.h AND EXISTS ${_fx_src}/fx_usdt.c)
  usdtkit_fixture_exe(fx-usdt-c SOURCES ${_fx_src}/fx_usdt.c)
  usdtkit_fixture_exe(fx-usdt-cxx SOURCES ${_fx_src}/fx_usdt_cxx.cpp)
endif()
