/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * Note writer: encodes one complete ELF note — the stapsdt probe note or
 * the usdtkit typed-metadata note — into a caller buffer.
 *
 * The runtime builds whole ELF objects in memory for dynamically defined
 * providers, and tests build synthetic ELF files; both need byte-exact
 * notes in either byte order and address size, independent of the host.
 * Nothing here touches an ELF file: the caller places the bytes in a
 * section and relocates the pc field (at USDT_NOTE_PC_OFFSET) if needed.
 *
 * Like snprintf, the functions return the full encoded size even when the
 * buffer is too small; unlike snprintf, they then write nothing at all, so
 * a caller never sees half a note.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <usdtkit/stapsdt.h>

#include "elf_bytes.h"

/* Largest descriptor we agree to produce: far above any real probe. */
#define NOTE_DESC_MAX (1u << 20)

struct encode_cfg {
	unsigned int addr_size;
	bool big_endian;
};

static int parse_opts(const struct usdt_encode_opts *opts, struct encode_cfg *cfg)
{
	struct usdt_encode_opts o = {0};

	cfg->addr_size = 8;
	cfg->big_endian = false;
	if (!opts)
		return 0;
	if (opts->sz < USDT_ENCODE_OPTS_SZ_MIN)
		return -EINVAL;
	if (opts->sz > sizeof(o)) {
		/* A newer caller: accept only if we would ignore nothing. */
		const uint8_t *tail = (const uint8_t *)opts + sizeof(o);
		for (size_t i = 0; i < opts->sz - sizeof(o); i++)
			if (tail[i])
				return -EINVAL;
	}
	memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	cfg->addr_size = o.is_32bit ? 4 : 8;
	cfg->big_endian = o.big_endian;
	return 0;
}

/*
 * Encodes a note of @owner/@type whose descriptor is @naddr addresses then
 * @nstr NUL-terminated strings.
 */
static ssize_t encode(const char *owner, uint32_t type, const uint64_t *addr, int naddr,
		      const char *const *str, const size_t *len, int nstr,
		      const struct encode_cfg *cfg, void *buf, size_t size)
{
	size_t namesz = strlen(owner) + 1;
	size_t descsz = (size_t)naddr * cfg->addr_size;
	size_t total, off;
	uint8_t *out = buf;

	for (int i = 0; i < naddr; i++)
		if (cfg->addr_size == 4 && addr[i] > UINT32_MAX)
			return -EINVAL;
	for (int i = 0; i < nstr; i++) {
		if (len[i] >= NOTE_DESC_MAX)
			return -ENAMETOOLONG;
		descsz += len[i] + 1;
	}
	if (descsz > NOTE_DESC_MAX)
		return -ENAMETOOLONG;
	total = 12 + usdt_align4(namesz) + usdt_align4(descsz);
	if (!buf || size < total)
		return (ssize_t)total;

	memset(out, 0, total);
	usdt_put_uint(out, namesz, 4, cfg->big_endian);
	usdt_put_uint(out + 4, descsz, 4, cfg->big_endian);
	usdt_put_uint(out + 8, type, 4, cfg->big_endian);
	memcpy(out + 12, owner, namesz);
	off = 12 + usdt_align4(namesz);
	for (int i = 0; i < naddr; i++, off += cfg->addr_size)
		usdt_put_uint(out + off, addr[i], cfg->addr_size, cfg->big_endian);
	for (int i = 0; i < nstr; i++) {
		memcpy(out + off, str[i], len[i]);
		off += len[i] + 1; /* the NUL is already there from memset */
	}
	return (ssize_t)total;
}

/* A provider or probe name: non-empty, no whitespace (it would break "provider:name" use). */
static bool valid_ident(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == ':')
			return false;
	return true;
}

static ssize_t finish(ssize_t ret)
{
	if (ret < 0)
		errno = (int)-ret;
	return ret;
}

/*
 * Both notes carry the same three strings after their addresses: validates
 * them and the options, then encodes. Sets errno on failure.
 */
static ssize_t encode_probe_note(const char *owner, uint32_t type, const uint64_t *addr, int naddr,
				 const char *provider, const char *name, const char *args,
				 const struct usdt_encode_opts *opts, void *buf, size_t size)
{
	const char *str[3] = {provider, name, args ? args : ""};
	struct encode_cfg cfg;
	size_t len[3];
	int err;

	if (!valid_ident(provider) || !valid_ident(name))
		return finish(-EINVAL);
	err = parse_opts(opts, &cfg);
	if (err)
		return finish(err);
	for (int i = 0; i < 3; i++)
		len[i] = strlen(str[i]);
	return finish(encode(owner, type, addr, naddr, str, len, 3, &cfg, buf, size));
}

ssize_t usdt_note__encode(const struct usdt_note_desc *desc, const struct usdt_encode_opts *opts,
			  void *buf, size_t size)
{
	uint64_t addr[3];

	if (!desc)
		return finish(-EINVAL);
	addr[0] = desc->pc;
	addr[1] = desc->base;
	addr[2] = desc->semaphore;
	return encode_probe_note(USDT_STAPSDT_OWNER, USDT_STAPSDT_NOTE_TYPE, addr, 3,
				 desc->provider, desc->name, desc->args, opts, buf, size);
}

ssize_t usdt_meta_note__encode(const struct usdt_meta_desc *desc,
			       const struct usdt_encode_opts *opts, void *buf, size_t size)
{
	if (!desc)
		return finish(-EINVAL);
	return encode_probe_note(USDT_META_OWNER, USDT_META_NOTE_TYPE, &desc->pc, 1, desc->provider,
				 desc->name, desc->args, opts, buf, size);
}
