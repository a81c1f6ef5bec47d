# Tests of the runtime provider library (libusdtkit). The tool tests drive
# real readelf, tplist-bpfcc, bpftrace and gdb against real processes and
# skip (exit 77) with a reason where a tool or BPF is unavailable.
usdtkit_add_test(runtime errors
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_errors.c
  LIBS usdtkit)

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
if(USDTKIT_VALGRIND AND NOT USDTKIT_SANITIZE AND NOT USDTKIT_TSAN AND NOT USDTKIT_FUZZ)
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
