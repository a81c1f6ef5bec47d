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
    ENVIRONMENT "USDTKIT_BUILD_DIR=${CMAKE_BINARY_DIR};USDTKIT_SOURCE_DIR=${CMAKE_SOURCE_DIR};CMOCKA_MESSAGE_OUTPUT=STDOUT")
endfunction()
