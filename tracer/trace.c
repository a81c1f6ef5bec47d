/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
#include <stdio.h>

#include "commands.h"

int cmd_trace(int argc, char **argv)
{
	fprintf(stderr, "usdtkit trace: not available in this build\n");
	return EXIT_FAIL;
}
