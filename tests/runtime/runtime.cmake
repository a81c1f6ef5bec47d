# Tests of the runtime provider library (libusdtkit). The tool tests drive
# real readelf, tplist-bpfcc, bpftrace and gdb against real processes and
# skip (exit 77) with a reason where a tool or BPF is unavailable.
usdtkit_add_test(runtime errors
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_errors.c
  LIBS usdtkit)

# The ABI rules from a caller built with a newer header: a copy of
# provider.h with one more field in each options struct.
set(USDTKIT_FUTURE_INC ${CMAKE_BINARY_DIR}/tests/runtime/future-include)
file(READ ${USDTKIT_INCLUDE_DIR}/usdtkit/provider.h USDTKIT_FUTURE_H)
set(USDTKIT_FUTURE_H_OLD "${USDTKIT_FUTURE_H}")
foreach(s probe_opts provider_opts)
  string(REPLACE "size_t : 0; /* end of struct usdt_${s} */"
    "long future_field; /* added by a newer header */\n\tsize_t : 0;"
    USDTKIT_FUTURE_H "${USDTKIT_FUTURE_H}")
endforeach()
if(USDTKIT_FUTURE_H STREQUAL USDTKIT_FUTURE_H_OLD)
  message(FATAL_ERROR "provider.h lost its end-of-opts markers (tests/runtime/runtime.cmake)")
endif()
file(WRITE ${USDTKIT_FUTURE_INC}/usdtkit/provider.h "${USDTKIT_FUTURE_H}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${USDTKIT_INCLUDE_DIR}/usdtkit/provider.h)
usdtkit_add_test(runtime abi
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_abi.c
  LIBS usdtkit)
target_include_directories(test_runtime_abi BEFORE PRIVATE ${USDTKIT_FUTURE_INC})

# The announce wait bound's parsing (announce.c compiled in: hidden helpers).
find_package(Threads REQUIRED)
pkg_check_modules(USDTKIT_TEST_LIBFFI REQUIRED IMPORTED_TARGET libffi)
usdtkit_add_test(runtime announce_env
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_announce_env.c ${CMAKE_SOURCE_DIR}/runtime/announce.c
  LIBS PkgConfig::USDTKIT_TEST_LIBFFI Threads::Threads)
target_include_directories(test_runtime_announce_env PRIVATE ${CMAKE_SOURCE_DIR}/runtime)

# The load announcement against a real (perf_event uprobe) tracer.
usdtkit_add_test(runtime announce
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_announce.c
  LIBS usdtkit usdtkit_sdt ${CMAKE_DL_LIBS}
  TIMEOUT 120)

find_package(Threads REQUIRED)
# detect.c compiled in: its internal functions are hidden in libusdtkit.
usdtkit_add_test(runtime detect
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_detect.c ${CMAKE_SOURCE_DIR}/runtime/detect.c
  LIBS Threads::Threads)
target_include_directories(test_runtime_detect PRIVATE ${CMAKE_SOURCE_DIR}/runtime)

usdtkit_add_test(runtime load
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_load.c
  LIBS usdtkit usdtkit_sdt ${CMAKE_DL_LIBS})

usdtkit_add_test(runtime tools
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_tools.c
  LIBS usdtkit
  TIMEOUT 300)

usdtkit_add_test(runtime trace
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_trace.c
  LIBS usdtkit
  TIMEOUT 400)

find_package(Threads REQUIRED)
usdtkit_add_test(runtime threads
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_threads.c
  LIBS usdtkit Threads::Threads
  TIMEOUT 300)

# The bad-input and load tests once more under valgrind: no leak, no error.
find_program(USDTKIT_VALGRIND valgrind)
# (Not in a cross build: the host's valgrind cannot run the target's code.)
if(USDTKIT_VALGRIND AND NOT USDTKIT_SANITIZE AND NOT USDTKIT_TSAN AND NOT USDTKIT_FUZZ
   AND NOT CMAKE_CROSSCOMPILING)
  foreach(t errors load)
    add_test(NAME runtime/${t}_valgrind
      COMMAND ${USDTKIT_VALGRIND} --leak-check=full --error-exitcode=1 --quiet
              $<TARGET_FILE:test_runtime_${t}>)
    set_tests_properties(runtime/${t}_valgrind PROPERTIES
      TIMEOUT 300
      LABELS "runtime;nosanitize"
      SKIP_RETURN_CODE 77
      ENVIRONMENT "USDTKIT_BUILD_DIR=${CMAKE_BINARY_DIR};USDTKIT_SOURCE_DIR=${CMAKE_SOURCE_DIR};CMOCKA_MESSAGE_OUTPUT=STDOUT")
  endforeach()
endif()

# The example runs: a handful of requests, no tracer needed.
if(TARGET example_c_dynamic)
  add_test(NAME runtime/example_c_dynamic COMMAND example_c_dynamic 5 1)
  set_tests_properties(runtime/example_c_dynamic PROPERTIES TIMEOUT 60 LABELS "runtime")
endif()

# libusdtkit from outside: usdtkit.pc, a program built with its flags only,
# no libbpf, nothing exported but usdt_*. An uninstrumented program cannot
# link the sanitizer build's library: nosanitize.
add_test(NAME runtime/pkgconfig
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/pkgconfig.sh ${CMAKE_BINARY_DIR} ${CMAKE_C_COMPILER})
set_tests_properties(runtime/pkgconfig PROPERTIES
  TIMEOUT 120
  LABELS "runtime;nosanitize"
  SKIP_RETURN_CODE 77)

# perf on runtime providers: the build-id lets perf buildid-cache take the
# object, and perf probe/record then trace a runtime probe (perf.sh).
add_executable(perf_target ${CMAKE_CURRENT_LIST_DIR}/perf_target.c)
set_target_properties(perf_target PROPERTIES OUTPUT_NAME perf-target
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/runtime)
target_link_libraries(perf_target PRIVATE usdtkit)
add_test(NAME runtime/perf
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/perf.sh ${CMAKE_BINARY_DIR})
set_tests_properties(runtime/perf PROPERTIES
  TIMEOUT 120
  LABELS "runtime"
  SKIP_RETURN_CODE 77)

# The image builder with every architecture's table, on any host: image.c
# and arch.c compiled in (their functions are hidden in libusdtkit).
pkg_check_modules(USDTKIT_TEST_FFI REQUIRED IMPORTED_TARGET libffi)
usdtkit_add_test(runtime image_arch
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_image_arch.c ${CMAKE_SOURCE_DIR}/runtime/image.c
          ${CMAKE_SOURCE_DIR}/runtime/arch.c
  LIBS usdtkit_sdt ${USDTKIT_TEST_LIBELF} PkgConfig::USDTKIT_TEST_FFI Threads::Threads)
target_include_directories(test_runtime_image_arch PRIVATE ${CMAKE_SOURCE_DIR}/runtime)
