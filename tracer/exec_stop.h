/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Shared by exec_stop.bpf.c and target_cmd.c: the -c command is stopped
 * at each exec, before the new program runs, so the session can scan and
 * attach it (see target_cmd.c).
 */
#ifndef USDTKIT_TRACER_EXEC_STOP_H
#define USDTKIT_TRACER_EXEC_STOP_H

#define EXEC_STOP_SIGSTOP 19

#endif
