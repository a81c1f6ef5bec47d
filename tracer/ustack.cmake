# User stacks (issue 13): the symbolizer (elfutils' libdwfl) and the stack
# printers, as a static library the tests link (the CLI once wired). The BPF side is
# a header (ustack.bpf.h) the trace and stat programs include.
pkg_check_modules(LIBDW REQUIRED IMPORTED_TARGET GLOBAL libdw)
add_library(usdtkit_ustack STATIC
  ${CMAKE_CURRENT_LIST_DIR}/symbolize.c
  ${CMAKE_CURRENT_LIST_DIR}/ustack_fmt.c)
target_include_directories(usdtkit_ustack PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(usdtkit_ustack PUBLIC PkgConfig::LIBDW)
# Linked into usdtkit_cli once trace --ustack and stat --by ustack use it.
