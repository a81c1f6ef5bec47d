# Argument-spec parser/printer and typed-metadata tests (sdt core).
usdtkit_add_test(sdt argspec SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_argspec.c LIBS usdtkit_sdt)
# Fallback for running the binary by hand outside ctest (no USDTKIT_SOURCE_DIR).
target_compile_definitions(test_sdt_argspec PRIVATE SOURCE_DIR="${CMAKE_SOURCE_DIR}")
usdtkit_add_test(sdt meta SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_meta.c LIBS usdtkit_sdt)
