// SPDX-License-Identifier: GPL-2.0
/*
 * srctl: inspect, fill, read and write the simple_remap buffer through its
 * mapping, and synchronise on its notifications, from the shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "simple_remap.h"

static const char *prog = "srctl";
static const char *dev_path = SIMPLE_REMAP_DEFAULT_PATH;

/* Options shared by the subcommands; each says which it takes. */
struct srctl_opts {
	uint64_t offset;
	uint64_t length;	/* 0: to the end (dump: 256) */
	bool has_length;
	const char *pattern;
	int timeout_ms;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-d DEVICE] COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"Reads and writes the simple_remap buffer through its mapping.\n"
		"\n"
		"commands:\n"
		"  info                             size, page size, mappings, ABI, chunks, counter\n"
		"  write [-o OFF] [DATA|-]          write DATA (or stdin) at OFF\n"
		"  read  [-o OFF] [-l LEN]          copy LEN bytes at OFF to stdout (default: to the end)\n"
		"  dump  [-o OFF] [-l LEN]          hex dump (default 256 bytes)\n"
		"  fill  [-o OFF] [-l LEN] [-p PAT] fill with a pattern (default: to the end)\n"
		"  verify [-o OFF] [-l LEN] [-p PAT] check a pattern; exit 1 at the first mismatch\n"
		"  notify                           wake every process waiting on the device\n"
		"  wait  [-t MS]                    wait for a notification (default: forever)\n"
		"\n"
		"PAT: zero, a byte (0xa5), or offset (each 8-byte word holds its offset;\n"
		"the default, which catches misplaced pages). Numbers take 0x and K/M/G.\n"
		"DEVICE defaults to %s.\n",
		prog, SIMPLE_REMAP_DEFAULT_PATH);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((noreturn)) usage_error(const char *what)
{
	fprintf(stderr, "%s: %s (see '%s --help')\n", prog, what, prog);
	exit(2);
}

/* A size or offset: decimal or 0x hex, optionally K, M or G. */
static uint64_t parse_size(const char *what, const char *s)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	if (*s == '-' || !*s)
		die("%s '%s' is not a size", what, s);
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	}
	if (errno || *end || end == s || (v << shift) >> shift != v)
		die("%s '%s' is not a size", what, s);
	return v << shift;
}

static void open_dev(struct simple_remap *sr, int flags)
{
	int ret = simple_remap_open(sr, dev_path, flags);

	if (ret == -ENOENT)
		die("cannot open %s: %s (is the module loaded?)", dev_path, strerror(-ret));
	if (ret)
		die("cannot open %s: %s", dev_path, strerror(-ret));
}

/* The device, open, and a range of its buffer, mapped. */
struct window {
	struct simple_remap sr;
	unsigned char *p;	/* the range's first byte */
	uint64_t len;		/* the range's length */
	void *base;		/* the page-aligned mapping that holds it */
	size_t maplen;
};

/*
 * Open the device (for writing too if @writable) and map [off, off + len)
 * of the buffer, checked against its size: a zero @len means "to the end";
 * @clip shortens a range that runs past the end instead of refusing it.
 */
static void window_map(struct window *w, bool writable, uint64_t off, uint64_t len,
		       bool clip)
{
	uint64_t size, ps, start;
	int ret;

	open_dev(&w->sr, writable ? O_RDWR : O_RDONLY);
	size = w->sr.info.size;
	ps = w->sr.info.page_size;
	if (off >= size)
		die("offset %" PRIu64 " is past the end of the %" PRIu64 "-byte buffer",
		    off, size);
	if (!len || (clip && len > size - off))
		len = size - off;
	if (len > size - off)
		die("%" PRIu64 " bytes at offset %" PRIu64 " do not fit in the %" PRIu64
		    "-byte buffer (%" PRIu64 " left); nothing done",
		    len, off, size, size - off);
	start = off - off % ps;
	w->len = len;
	w->maplen = (off + len - start + ps - 1) / ps * ps;
	ret = simple_remap_map(&w->sr, start, w->maplen,
			       PROT_READ | (writable ? PROT_WRITE : 0), &w->base);
	if (ret)
		die("cannot map %s: %s", dev_path, strerror(-ret));
	w->p = (unsigned char *)w->base + (off - start);
}

static void window_unmap(struct window *w)
{
	simple_remap_unmap(w->base, w->maplen);
	simple_remap_close(&w->sr);
}

static int cmd_info(struct srctl_opts *o)
{
	struct simple_remap sr;

	(void)o;
	open_dev(&sr, O_RDONLY);
	printf("device:      %s\n", dev_path);
	printf("size:        %llu\n", (unsigned long long)sr.info.size);
	printf("page_size:   %u\n", sr.info.page_size);
	printf("mappings:    %llu\n", (unsigned long long)sr.info.mappings);
	printf("abi_version: %u\n", sr.info.abi_version);
	printf("nr_chunks:   %u\n", sr.info.nr_chunks);
	printf("seq:         %llu\n", (unsigned long long)sr.info.seq);
	simple_remap_close(&sr);
	return 0;
}

/* All of stdin, in memory: a write is checked whole before any byte lands. */
static unsigned char *read_stdin(uint64_t *len)
{
	size_t cap = 65536, n = 0;
	unsigned char *buf = malloc(cap);
	ssize_t r;

	while (buf && (r = read(0, buf + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("reading stdin: %s", strerror(errno));
		}
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf)
		die("out of memory reading stdin");
	*len = n;
	return buf;
}

static int cmd_write(struct srctl_opts *o, const char *data)
{
	struct window w;
	unsigned char *src;
	uint64_t len;

	if (!data || !strcmp(data, "-"))
		src = read_stdin(&len);
	else
		src = (unsigned char *)strdup(data), len = strlen(data);
	if (!len)
		return 0;
	window_map(&w, true, o->offset, len, false);
	memcpy(w.p, src, len);
	free(src);
	window_unmap(&w);
	return 0;
}

static int cmd_read(struct srctl_opts *o)
{
	uint64_t done = 0;
	struct window w;
	ssize_t n;

	window_map(&w, false, o->offset, o->length, false);
	while (done < w.len) {
		n = write(1, w.p + done, w.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("writing stdout: %s", strerror(errno));
		done += n;
	}
	window_unmap(&w);
	return 0;
}

static int cmd_dump(struct srctl_opts *o)
{
	struct window w;
	unsigned char *p;
	uint64_t len, i, j;

	/* 256 bytes, or what is left, unless told. */
	window_map(&w, false, o->offset, o->has_length ? o->length : 256, !o->has_length);
	p = w.p;
	len = w.len;
	for (i = 0; i < len; i += 16) {
		printf("%08" PRIx64 "  ", o->offset + i);
		for (j = 0; j < 16; j++) {
			if (i + j < len)
				printf("%02x ", p[i + j]);
			else
				printf("   ");
			if (j == 7)
				putchar(' ');
		}
		printf(" |");
		for (j = 0; j < 16 && i + j < len; j++)
			putchar(p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.');
		printf("|\n");
	}
	window_unmap(&w);
	return 0;
}

/* The pattern's byte at absolute buffer offset @off. */
static unsigned char pattern_byte(int pat, uint64_t off)
{
	if (pat >= 0)
		return (unsigned char)pat;
	return (unsigned char)((off & ~7ull) >> (8 * (off & 7)));
}

/* -1 for the offset pattern, else the byte value. */
static int parse_pattern(const char *s)
{
	uint64_t v;

	if (!s || !strcmp(s, "offset"))
		return -1;
	if (!strcmp(s, "zero"))
		return 0;
	v = parse_size("pattern", s);
	if (v > 0xff)
		die("pattern '%s' is neither zero, offset nor a byte", s);
	return (int)v;
}

static int cmd_fill_verify(struct srctl_opts *o, bool verify)
{
	int pat = parse_pattern(o->pattern);
	struct window w;
	unsigned char *p;
	uint64_t i;

	window_map(&w, !verify, o->offset, o->length, false);
	p = w.p;
	for (i = 0; i < w.len; i++) {
		unsigned char want = pattern_byte(pat, o->offset + i);

		if (!verify)
			p[i] = want;
		else if (p[i] != want)
			die("mismatch at offset %" PRIu64 ": expected 0x%02x, found 0x%02x",
			    o->offset + i, want, p[i]);
	}
	if (verify)
		printf("verified %" PRIu64 " bytes at offset %" PRIu64 "\n", w.len, o->offset);
	window_unmap(&w);
	return 0;
}

static int cmd_notify(struct srctl_opts *o)
{
	struct simple_remap sr;
	uint64_t seq;
	int ret;

	(void)o;
	/* Waking every waiter takes write access, as write() does. */
	open_dev(&sr, O_RDWR);
	ret = simple_remap_notify(&sr, &seq);
	if (ret)
		die("notify: %s", strerror(-ret));
	printf("%" PRIu64 "\n", seq);
	simple_remap_close(&sr);
	return 0;
}

/* A new file starts acknowledged: this waits for the next notification. */
static int cmd_wait(struct srctl_opts *o)
{
	struct simple_remap sr;
	uint64_t seq;
	int ret;

	open_dev(&sr, O_RDONLY);
	ret = simple_remap_wait(&sr, o->timeout_ms);
	if (ret == -ETIMEDOUT)
		die("no notification within %d ms", o->timeout_ms);
	if (!ret)
		ret = simple_remap_ack(&sr, &seq);
	if (ret)
		die("wait: %s", strerror(-ret));
	printf("%" PRIu64 "\n", seq);
	simple_remap_close(&sr);
	return 0;
}

int main(int argc, char **argv)
{
	struct srctl_opts o = { .timeout_ms = -1 };
	const char *cmd;
	uint64_t t;
	int opt;

	/* Global options stop at the command, whose options follow it. */
	while ((opt = getopt(argc, argv, "+d:h")) != -1) {
		switch (opt) {
		case 'd':
			dev_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage_error("bad option");
		}
	}
	if (optind < argc && !strcmp(argv[optind], "--help")) {
		usage(stdout);
		return 0;
	}
	if (optind >= argc)
		usage_error("no command");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	while ((opt = getopt(argc, argv, "o:l:p:t:")) != -1) {
		switch (opt) {
		case 'o':
			o.offset = parse_size("offset", optarg);
			break;
		case 'l':
			o.length = parse_size("length", optarg);
			o.has_length = true;
			if (!o.length)
				usage_error("length must be at least 1");
			break;
		case 'p':
			o.pattern = optarg;
			break;
		case 't':
			t = parse_size("timeout", optarg);
			if (t > 0x7fffffff)
				usage_error("timeout too large");
			o.timeout_ms = (int)t;
			break;
		default:
			usage_error("bad option");
		}
	}
	if (!strcmp(cmd, "write")) {
		if (argc - optind > 1)
			usage_error("write takes one DATA argument");
		return cmd_write(&o, optind < argc ? argv[optind] : NULL);
	}
	if (optind < argc)
		usage_error("unexpected argument");
	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "read"))
		return cmd_read(&o);
	if (!strcmp(cmd, "dump"))
		return cmd_dump(&o);
	if (!strcmp(cmd, "fill"))
		return cmd_fill_verify(&o, false);
	if (!strcmp(cmd, "verify"))
		return cmd_fill_verify(&o, true);
	if (!strcmp(cmd, "notify"))
		return cmd_notify(&o);
	if (!strcmp(cmd, "wait"))
		return cmd_wait(&o);
	fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, cmd, prog);
	return 2;
}
