# usdtkit trace: the generic argument engine (engine.c, fetch*.h) and the
# trace command with its BPF program.
usdtkit_bpf_skeleton(trace ${CMAKE_CURRENT_SOURCE_DIR}/trace.h
                     ${CMAKE_CURRENT_SOURCE_DIR}/fetch.h ${CMAKE_CURRENT_SOURCE_DIR}/fetch.bpf.h)
target_sources(usdtkit_cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/engine.c
                                   ${CMAKE_CURRENT_LIST_DIR}/target.c
                                   ${CMAKE_CURRENT_LIST_DIR}/kernel_features.c)
add_dependencies(usdtkit_cli trace_skel)
find_package(Threads REQUIRED)
target_link_libraries(usdtkit_cli PRIVATE Threads::Threads)
