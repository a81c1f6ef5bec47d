# usdtkit_add_fuzzer(NAME SOURCE): tests/fuzz/NAME with seeds in corpus/NAME.
# Fuzz build: a libFuzzer binary and a short run registered with label "fuzz".
# Other builds: the harness linked with replay.c, replaying the seed corpus
# as an ordinary test (so ASan/UBSan builds exercise every seed).
set(USDTKIT_FUZZ_RUNS 200000 CACHE STRING "libFuzzer -runs for the fuzz tests")
function(usdtkit_add_fuzzer name source)
  set(target fuzz_${name})
  set(corpus ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  if(USDTKIT_FUZZ)
    add_executable(${target} ${source})
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(${target} ${source} ${CMAKE_CURRENT_SOURCE_DIR}/replay.c)
  endif()
  set_target_properties(${target} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/fuzz)
  target_link_libraries(${target} PRIVATE usdtkit_sdt)
  if(USDTKIT_FUZZ)
    # Fuzz a scratch copy so the committed seed corpus is never rewritten.
    set(work ${CMAKE_BINARY_DIR}/tests/fuzz/work-${name})
    add_test(NAME fuzz/${name}
      COMMAND sh -c "rm -rf '${work}' && mkdir -p '${work}' && cp -r '${corpus}'/. '${work}'/ && exec \"$0\" -runs=${USDTKIT_FUZZ_RUNS} -max_len=4096 -print_final_stats=1 '${work}'"
              $<TARGET_FILE:${target}>)
    set_tests_properties(fuzz/${name} PROPERTIES LABELS "fuzz" TIMEOUT 600)
  else()
    add_test(NAME fuzz/${name}-replay COMMAND ${target} ${corpus})
    set_tests_properties(fuzz/${name}-replay PROPERTIES LABELS "fuzz-replay" TIMEOUT 300)
  endif()
endfunction()

if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_argspec.c)
  usdtkit_add_fuzzer(argspec ${CMAKE_CURRENT_LIST_DIR}/fuzz_argspec.c)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_notes.c)
  usdtkit_add_fuzzer(notes ${CMAKE_CURRENT_LIST_DIR}/fuzz_notes.c)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_meta.c)
  usdtkit_add_fuzzer(meta ${CMAKE_CURRENT_LIST_DIR}/fuzz_meta.c)
endif()
# The HTTP request parser of the Prometheus endpoint: built from its source
# so it is fuzzed in builds without the tracer too.
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_http.c)
  usdtkit_add_fuzzer(http ${CMAKE_CURRENT_LIST_DIR}/fuzz_http.c)
  target_sources(fuzz_http PRIVATE ${CMAKE_SOURCE_DIR}/tracer/export_prom.c
                 ${CMAKE_SOURCE_DIR}/tracer/export_util.c ${CMAKE_SOURCE_DIR}/tracer/metrics.c)
  target_include_directories(fuzz_http PRIVATE ${CMAKE_SOURCE_DIR}/tracer ${USDTKIT_INCLUDE_DIR})
  find_package(Threads REQUIRED)
  target_link_libraries(fuzz_http PRIVATE Threads::Threads m)
endif()
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_export_addr.c)
  usdtkit_add_fuzzer(export_addr ${CMAKE_CURRENT_LIST_DIR}/fuzz_export_addr.c)
  target_sources(fuzz_export_addr PRIVATE ${CMAKE_SOURCE_DIR}/tracer/export_prom.c
                 ${CMAKE_SOURCE_DIR}/tracer/export_otlp.c ${CMAKE_SOURCE_DIR}/tracer/export_util.c
                 ${CMAKE_SOURCE_DIR}/tracer/metrics.c)
  target_include_directories(fuzz_export_addr PRIVATE ${CMAKE_SOURCE_DIR}/tracer
                             ${USDTKIT_INCLUDE_DIR})
  target_link_libraries(fuzz_export_addr PRIVATE Threads::Threads m)
endif()
# The --filter compiler: pure C, built from the tracer's source so it is
# fuzzed in builds without the tracer too (the fuzz stage).
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/fuzz_filter.c AND EXISTS ${CMAKE_SOURCE_DIR}/tracer/filter.c)
  usdtkit_add_fuzzer(filter ${CMAKE_CURRENT_LIST_DIR}/fuzz_filter.c)
  target_sources(fuzz_filter PRIVATE ${CMAKE_SOURCE_DIR}/tracer/filter.c)
  target_include_directories(fuzz_filter PRIVATE ${CMAKE_SOURCE_DIR}/tracer)
endif()
