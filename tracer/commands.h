/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/* The usdtkit subcommands; each parses its own argv (argv[0] is its name). */
#ifndef USDTKIT_TRACER_COMMANDS_H
#define USDTKIT_TRACER_COMMANDS_H

/* Exit statuses shared by every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1, /* runtime failure: file missing, not ELF, no permission … */
	EXIT_USAGE = 2, /* bad command line */
};

int cmd_list(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_stat(int argc, char **argv);

#endif
