// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Fixture of the user-stack tests: fires a probe at the end of a known
 * call chain, built (see ustack.cmake) as a PIE with frame pointers, -O1,
 * no inlining of the chain and no sibling calls, so the expected stack is
 * exact:
 *   exe: probe ustk:exe in c      -> c, b, a, main
 *   lib: probe ustk:lib           -> ustk_lib_c, ustk_lib_b, ustk_lib_a, main
 *   rt:  runtime provider ustk_rt, probe "hit": c calls the probe's stub
 *        (the probe nop is its first instruction) -> hit, c, b, a, main;
 *        rtu: the same, then the provider is unloaded ("unloaded")
 *   jit: a calls b through a thunk in an anonymous executable mapping
 *        (like JIT code: no object, no symbol) -> c, b, [anon], a, main
 *   nofp: c calls nofp, which points %rbp at data before probe ustk:nofp,
 *        as code built without frame pointers may leave it -> nofp, then
 *        one "return address" that is not code, and nothing else
 * Prints "ready PID" (rt: "ready PID FD" with the provider's memfd), waits
 * for a line on stdin, fires COUNT times, prints "done" and waits for
 * stdin to close before exiting.
 * Usage: ustack_chain exe|lib|rt|rtu|jit|nofp COUNT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <usdtkit/provider.h>
#include <usdtkit/sdt.h>

#define NOINLINE __attribute__((noinline))

void ustk_lib_a(int i);

static void (*rt_stub)(void);
static void (*jit_thunk)(int);
static int use_stub, use_jit, use_nofp;
volatile int sink;

/* A frame record ({next frame, return address}) whose return address is not code. */
static uint64_t fake_frame[2] = {0, 0x414141414140};

NOINLINE void nofp(void)
{
	__asm__ volatile("push %%rbp\n\tlea %0, %%rbp" : : "m"(fake_frame) : "memory");
	USDT(ustk, nofp);
	__asm__ volatile("pop %%rbp" : : : "memory");
}

NOINLINE void c(int i)
{
	if (use_stub)
		rt_stub();
	else if (use_nofp)
		nofp();
	else
		USDT(ustk, exe, i);
	sink++;
}

NOINLINE void b(int i)
{
	c(i);
	sink++;
}

NOINLINE void a(int i)
{
	if (use_jit)
		jit_thunk(i);
	else
		b(i);
	sink++;
}

/* push %rbp; mov %rsp,%rbp; movabs $b,%rax; call *%rax; pop %rbp; ret */
static int make_thunk(void)
{
	static const uint8_t head[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0xb8};
	static const uint8_t tail[] = {0xff, 0xd0, 0x5d, 0xc3};
	uint64_t target = (uintptr_t)b;
	uint8_t *p;

	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	memcpy(p, head, sizeof(head));
	memcpy(p + sizeof(head), &target, sizeof(target));
	memcpy(p + sizeof(head) + 8, tail, sizeof(tail));
	if (mprotect(p, 4096, PROT_READ | PROT_EXEC))
		return -1;
	jit_thunk = (void (*)(int))(uintptr_t)p;
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exe";
	int count = argc > 2 ? atoi(argv[2]) : 1;
	struct usdt_provider_opts o = {.sz = sizeof(o), .probe_nop = USDT_NOP_1};
	struct usdt_provider *prov = NULL;
	char line[16];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strncmp(mode, "rt", 2)) {
		struct usdt_probe *p;

		prov = usdt_provider__new("ustk_rt", &o);
		p = prov ? usdt_provider__add_probe(prov, "hit", 0, NULL, NULL) : NULL;
		if (!p || usdt_provider__load(prov)) {
			fprintf(stderr, "ustack_chain: cannot load the provider\n");
			return 1;
		}
		/* a 1-byte nop probe is the stub's first instruction */
		rt_stub = (void (*)(void))(uintptr_t)usdt_probe__address(p);
		use_stub = 1;
		printf("ready %d %d\n", (int)getpid(), usdt_provider__fd(prov));
	} else {
		if (!strcmp(mode, "jit")) {
			if (make_thunk()) {
				perror("ustack_chain: thunk");
				return 1;
			}
			use_jit = 1;
		}
		use_nofp = !strcmp(mode, "nofp");
		printf("ready %d\n", (int)getpid());
	}
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 0; i < count; i++) {
		if (!strcmp(mode, "lib"))
			ustk_lib_a(i);
		else
			a(i);
	}
	printf("done\n");
	if (!strcmp(mode, "rtu")) {
		/* rtu: the provider goes away while the process lives on */
		usdt_provider__free(prov);
		prov = NULL;
		printf("unloaded\n");
	}
	while (fgets(line, sizeof(line), stdin))
		;
	usdt_provider__free(prov);
	return 0;
}
