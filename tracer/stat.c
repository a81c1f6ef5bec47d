/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
#include <stdio.h>

#include "commands.h"

int cmd_stat(int argc, char **argv)
{
	fprintf(stderr, "usdtkit stat: not available in this build\n");
	return EXIT_FAIL;
}
