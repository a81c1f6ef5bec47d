/* SPDX-License-Identifier: MIT */
/* placeholder: being written */
#include <usdtkit/stapsdt.h>
