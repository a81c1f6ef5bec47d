# usdtkit stat (issue 7): in-kernel aggregation on top of the argument engine.
usdtkit_bpf_skeleton(stat ${CMAKE_CURRENT_SOURCE_DIR}/stat.h
                     ${CMAKE_CURRENT_SOURCE_DIR}/fetch.h ${CMAKE_CURRENT_SOURCE_DIR}/fetch.bpf.h)
add_dependencies(usdtkit_cli stat_skel)
