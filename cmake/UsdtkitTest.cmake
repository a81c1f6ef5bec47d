# One helper registers every test, so all tests get the same flags, labels
# and environment.
#
#   usdtkit_add_test(AREA NAME SOURCES a.c [b.c] [LIBS l...] [LABELS x...]
#                    [ARGS ...] [TIMEOUT s] [DEPENDS target...])
#
# builds tests/AREA/NAME from SOURCES with cmocka and registers it with
# ctest as AREA/NAME.  Tests find fixtures through USDTKIT_BUILD_DIR and
# USDTKIT_SOURCE_DIR in their environment.
find_package(cmocka REQUIRED)

# A cross build's tests run under CMAKE_CROSSCOMPILING_EMULATOR; they are
# told so (USDTKIT_EMULATOR) to skip what the emulator cannot do.
set(USDTKIT_EMULATOR_ENV "")
if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
  list(GET CMAKE_CROSSCOMPILING_EMULATOR 0 _emu)
  get_filename_component(_emu ${_emu} NAME)
  set(USDTKIT_EMULATOR_ENV "USDTKIT_EMULATOR=${_emu}")
endif()

function(usdtkit_add_test area name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS;DEPENDS" ${ARGN})
  set(target test_${area}_${name})
  add_executable(${target} ${T_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/${area})
  target_include_directories(${target} PRIVATE ${USDTKIT_INCLUDE_DIR}
                             ${CMAKE_SOURCE_DIR}/tests/common)
  target_link_libraries(${target} PRIVATE cmocka ${T_LIBS})
  if(T_DEPENDS)
    add_dependencies(${target} ${T_DEPENDS})
  endif()
  add_test(NAME ${area}/${name} COMMAND ${target} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${area}/${name} PROPERTIES
    TIMEOUT ${T_TIMEOUT}
    LABELS "${area};${T_LABELS}"
    SKIP_RETURN_CODE 77
    ENVIRONMENT "USDTKIT_BUILD_DIR=${CMAKE_BINARY_DIR};USDTKIT_SOURCE_DIR=${CMAKE_SOURCE_DIR};CMOCKA_MESSAGE_OUTPUT=STDOUT;${USDTKIT_EMULATOR_ENV}")
endfunction()

# Sanitizer runtimes ("libasan.so:libubsan.so") that an uninstrumented
# interpreter (python3, node) must preload to load this build's ASan+UBSan
# libraries; empty when not a GCC sanitizer build.
set(USDTKIT_SANITIZER_PRELOAD "")
if(USDTKIT_SANITIZE AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
  set(preload "")
  foreach(rt libasan.so libubsan.so)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=${rt}
                    OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(IS_ABSOLUTE "${path}" AND EXISTS "${path}")
      list(APPEND preload ${path})
    endif()
  endforeach()
  list(LENGTH preload n)
  if(n EQUAL 2)
    string(REPLACE ";" ":" USDTKIT_SANITIZER_PRELOAD "${preload}")
  endif()
endif()

# Tests that are scripts or interpreter suites rather than cmocka programs:
#
#   usdtkit_script_test(NAME COMMAND cmd... [SKIP reason] [TIMEOUT s]
#                       [LABELS x...] [ENV VAR=value...] [PRELOAD])
#
# A non-empty SKIP registers a test that reports the reason and skips (77).
# Every test gets USDTKIT_BUILD_DIR, USDTKIT_SOURCE_DIR and USDTKIT_LIBRARY.
# PRELOAD: the command is an uninstrumented interpreter loading this build's
# libraries; in a sanitizer build it runs with the runtimes preloaded (leak
# detection off: interpreters keep memory at exit); in other builds, or
# where they cannot be preloaded, it is labelled nosanitize.
function(usdtkit_script_test name)
  cmake_parse_arguments(T "PRELOAD" "SKIP;TIMEOUT" "COMMAND;LABELS;ENV" ${ARGN})
  if(T_SKIP)
    add_test(NAME ${name} COMMAND sh -c "echo 'SKIP: ${T_SKIP}'; exit 77")
  else()
    add_test(NAME ${name} COMMAND ${T_COMMAND})
  endif()
  set(env "USDTKIT_BUILD_DIR=${CMAKE_BINARY_DIR}" "USDTKIT_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
          "USDTKIT_LIBRARY=$<TARGET_FILE:usdtkit>" ${T_ENV})
  set(labels ${T_LABELS})
  if(T_PRELOAD AND USDTKIT_SANITIZE AND USDTKIT_SANITIZER_PRELOAD)
    list(APPEND env "LD_PRELOAD=${USDTKIT_SANITIZER_PRELOAD}"
         "ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0")
  elseif(T_PRELOAD)
    list(APPEND labels nosanitize)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${T_TIMEOUT}
    LABELS "${labels}"
    SKIP_RETURN_CODE 77
    ENVIRONMENT "${env}")
endfunction()
