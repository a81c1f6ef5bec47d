# User stacks (issue 13): the symbolizer (elfutils' libdwfl) and the stack
# printers, as a static library the CLI and the tests link. The BPF side is
# a header (ustack.bpf.h) the trace and stat programs include.
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET GLOBAL libdw)
set(USDTKIT_USTACK_SOURCES ${CMAKE_CURRENT_LIST_DIR}/symbolize.c ${CMAKE_CURRENT_LIST_DIR}/ustack_fmt.c)
add_library(usdtkit_ustack STATIC ${USDTKIT_USTACK_SOURCES})
target_include_directories(usdtkit_ustack PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(usdtkit_ustack PUBLIC PkgConfig::LIBDW)
target_sources(usdtkit_cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/stat_ustack.c)
if(USDTKIT_STATIC_TRACER)
  # Debian's libdw.a (libdw-dev) with its backends; it reads compressed
  # sections and .gnu_debugdata through liblzma, libbz2 and libzstd.
  target_sources(usdtkit_cli PRIVATE ${USDTKIT_USTACK_SOURCES})
  target_link_libraries(usdtkit_cli PRIVATE dw elf lzma bz2 zstd z)
else()
  target_link_libraries(usdtkit_cli PRIVATE usdtkit_ustack)
endif()
