# Tests of the sdt core's note reader and writer, and the fixture binaries
# that the whole suite compares against readelf.
include(${CMAKE_CURRENT_LIST_DIR}/fixtures.cmake)

usdtkit_add_test(sdt notes_writer
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_notes_writer.c
  LIBS usdtkit_sdt)

# libelf is the independent reader the tests check offsets and symbols with.
find_library(USDTKIT_TEST_LIBELF elf REQUIRED)
usdtkit_add_test(sdt notes_reader
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_notes_reader.c
          ${CMAKE_SOURCE_DIR}/tests/common/readelf_notes.c
  LIBS usdtkit_sdt ${USDTKIT_TEST_LIBELF}
  DEPENDS usdtkit_fixtures)

usdtkit_add_test(sdt notes_corrupt
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_notes_corrupt.c
  LIBS usdtkit_sdt
  DEPENDS usdtkit_fixtures)
