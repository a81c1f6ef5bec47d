/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Consumer of an installed usdtkit: fires a compile-time probe
 * (<usdtkit/sdt.h>), loads a runtime provider (libusdtkit) and names a type
 * with the sdt core (<usdtkit/stapsdt.h>), so all three parts of the
 * package must be found, compiled against and linked.
 */
#include <errno.h>
#include <stdio.h>
#include <usdtkit/provider.h>
#include <usdtkit/sdt.h>
#include <usdtkit/stapsdt.h>

int main(void)
{
	enum usdt_type t[] = {USDT_TYPE_UINT64};
	struct usdt_provider *p = usdt_provider__new("consumer", NULL);
	struct usdt_probe *probe = p ? usdt_provider__add_probe(p, "tick", 1, t, NULL) : NULL;

	USDT_TYPED(consumer, started, USDT_ARG(u64, n, 1));
	if (!probe || usdt_provider__load(p)) {
		fprintf(stderr, "consumer: provider: %s\n", usdt_strerror(errno));
		usdt_provider__free(p);
		return 1;
	}
	usdt_probe__fire(probe, (uint64_t)1);
	printf("loaded %s:%s, sdt core type %s\n", usdt_provider__name(p), usdt_probe__name(probe),
	       usdt_type__name(USDT_TYPE_UINT64));
	usdt_provider__free(p);
	return 0;
}
