# `usdtkit list` and the helpers it shares with `trace`: process discovery,
# probe patterns and the JSON lines writer.
target_sources(usdtkit_cli PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/discover.c
  ${CMAKE_CURRENT_LIST_DIR}/json.c
  ${CMAKE_CURRENT_LIST_DIR}/pattern.c)
