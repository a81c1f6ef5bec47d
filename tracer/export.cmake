# Exporters (issue 15): Prometheus, OTLP/HTTP JSON, Perfetto. A static
# library of its own so the tests and benchmarks link the sinks without
# the CLI; usdtkit_cli links it for the stat/trace options.
add_library(usdtkit_export STATIC
  ${CMAKE_CURRENT_LIST_DIR}/export_util.c
  ${CMAKE_CURRENT_LIST_DIR}/metrics.c
  ${CMAKE_CURRENT_LIST_DIR}/export_prom.c
  ${CMAKE_CURRENT_LIST_DIR}/export_otlp.c
  ${CMAKE_CURRENT_LIST_DIR}/export_chrome.c)
target_include_directories(usdtkit_export PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${USDTKIT_INCLUDE_DIR})
find_package(Threads REQUIRED)
target_link_libraries(usdtkit_export PUBLIC Threads::Threads m)
target_link_libraries(usdtkit_cli PRIVATE usdtkit_export)
# The CLI's wiring of the exporters: stat's and trace's options.
target_sources(usdtkit_cli PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/stat_export.c
  ${CMAKE_CURRENT_LIST_DIR}/trace_export.c)
