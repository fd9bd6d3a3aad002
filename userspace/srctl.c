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

/* The options and arguments a command took; each says which it takes. */
struct srctl_opts {
	uint64_t offset;
	uint64_t length;	/* 0: to the end (dump: 256) */
	bool has_length;
	const char *pattern;
	int timeout_ms;
	bool readonly;		/* export -r */
	char **args;		/* the arguments after the options */
	int nr_args;
};

/*
 * A command: @fn gets its own argv, argv[0] being its name, and parses its
 * options with parse_opts(); @usage and @help make its line in usage().
 */
struct srctl_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static const struct srctl_cmd *cmd;	/* the one running */

/* "srctl: " and the message, to stderr. */
static void __attribute__((format(printf, 1, 0))) vsay(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Exit 2, touching nothing; in a command, with that command's usage line. */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nusage: %s %s\n", prog, cmd->usage);
	else
		fprintf(stderr, " (see '%s --help')\n", prog);
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

/* An option that getopt refused: -x, or the whole word for a --long one. */
static const char *bad_option(char **argv, int at)
{
	static char buf[3];

	if (optopt) {
		snprintf(buf, sizeof(buf), "-%c", optopt);
		return buf;
	}
	return argv[at];
}

/*
 * A command's options, among @optstring's only, into @o, then its
 * arguments: none, or at most one @arg ("one DATA argument"), or any
 * number if @arg ends in "..." ("CMD [ARGS...]"). Anything else is a
 * usage error, before the device is opened.
 */
static void parse_opts(int argc, char **argv, const char *optstring, const char *arg,
		       struct srctl_opts *o)
{
	static const struct option no_long[] = { {} };
	const char *name = argv[0], *extra, *hint;
	char spec[16];
	uint64_t t;
	int opt, at;

	*o = (struct srctl_opts){ .timeout_ms = -1 };
	/* '+': options end at the first argument; ':': a missing value shows. */
	snprintf(spec, sizeof(spec), "+:%s", optstring);
	opterr = 0;
	optind = 0;	/* start afresh (glibc, musl), with this spec's '+' */
	/* @at: the word getopt reads, to name a bad --long option. */
	for (at = 1; (opt = getopt_long(argc, argv, spec, no_long, NULL)) != -1; at = optind) {
		switch (opt) {
		case 'o':
			o->offset = parse_size("offset", optarg);
			break;
		case 'l':
			o->length = parse_size("length", optarg);
			o->has_length = true;
			if (!o->length)
				usage_error("%s: length must be at least 1", name);
			break;
		case 'p':
			o->pattern = optarg;
			break;
		case 'r':
			o->readonly = true;
			break;
		case 't':
			t = parse_size("timeout", optarg);
			if (t > 0x7fffffff)
				usage_error("%s: timeout too large", name);
			o->timeout_ms = (int)t;
			break;
		case ':':
			usage_error("%s: option '-%c' needs a value", name, optopt);
		default:
			if (!*optstring)
				usage_error("%s takes no options", name);
			usage_error("%s: unknown option '%s'", name, bad_option(argv, at));
		}
	}
	o->args = argv + optind;
	o->nr_args = argc - optind;
	if (o->nr_args <= (arg ? 1 : 0) || (arg && strstr(arg, "...")))
		return;
	extra = o->args[arg ? 1 : 0];
	hint = extra[0] == '-' && extra[1] ? "; options come before arguments" : "";
	if (!arg)
		usage_error("%s takes no arguments ('%s' given%s)", name, extra, hint);
	usage_error("%s takes %s ('%s' is one too many%s)", name, arg, extra, hint);
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

static int cmd_info(int argc, char **argv)
{
	struct simple_remap sr;
	struct srctl_opts o;

	parse_opts(argc, argv, "", NULL, &o);
	open_dev(&sr, O_RDONLY);
	printf("device:      %s\n", dev_path);
	printf("size:        %llu\n", (unsigned long long)sr.info.size);
	printf("page_size:   %u\n", sr.info.page_size);
	printf("mappings:    %llu\n", (unsigned long long)sr.info.mappings);
	printf("abi_version: %u\n", sr.info.abi_version);
	printf("nr_chunks:   %u\n", sr.info.nr_chunks);
	printf("seq:         %llu\n", (unsigned long long)sr.info.seq);
	printf("map_granule: %llu\n", (unsigned long long)sr.info.map_granule);
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

static int cmd_write(int argc, char **argv)
{
	struct srctl_opts o;
	const char *data;
	struct window w;
	unsigned char *src;
	uint64_t len;

	parse_opts(argc, argv, "o:", "one DATA argument", &o);
	data = o.nr_args ? o.args[0] : NULL;
	if (!data || !strcmp(data, "-"))
		src = read_stdin(&len);
	else
		src = (unsigned char *)strdup(data), len = strlen(data);
	if (!len)
		return 0;
	window_map(&w, true, o.offset, len, false);
	memcpy(w.p, src, len);
	free(src);
	window_unmap(&w);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	struct srctl_opts o;
	uint64_t done = 0;
	struct window w;
	ssize_t n;

	parse_opts(argc, argv, "o:l:", NULL, &o);
	window_map(&w, false, o.offset, o.length, false);
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

static int cmd_dump(int argc, char **argv)
{
	struct srctl_opts o;
	struct window w;
	unsigned char *p;
	uint64_t len, i, j;

	parse_opts(argc, argv, "o:l:", NULL, &o);
	/* 256 bytes, or what is left, unless told. */
	window_map(&w, false, o.offset, o.has_length ? o.length : 256, !o.has_length);
	p = w.p;
	len = w.len;
	for (i = 0; i < len; i += 16) {
		printf("%08" PRIx64 "  ", o.offset + i);
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

/* fill and verify: the same window and pattern, written or checked. */
static int cmd_fill_verify(int argc, char **argv)
{
	bool verify = !strcmp(argv[0], "verify");
	struct srctl_opts o;
	struct window w;
	unsigned char *p;
	uint64_t i;
	int pat;

	parse_opts(argc, argv, "o:l:p:", NULL, &o);
	pat = parse_pattern(o.pattern);
	window_map(&w, !verify, o.offset, o.length, false);
	p = w.p;
	for (i = 0; i < w.len; i++) {
		unsigned char want = pattern_byte(pat, o.offset + i);

		if (!verify)
			p[i] = want;
		else if (p[i] != want)
			die("mismatch at offset %" PRIu64 ": expected 0x%02x, found 0x%02x",
			    o.offset + i, want, p[i]);
	}
	if (verify)
		printf("verified %" PRIu64 " bytes at offset %" PRIu64 "\n", w.len, o.offset);
	window_unmap(&w);
	return 0;
}

/*
 * Send a notification, or wait for one and acknowledge it; either way print
 * the counter. A new file starts acknowledged: wait sees the next one.
 */
static int cmd_notify_wait(int argc, char **argv)
{
	bool wait = !strcmp(argv[0], "wait");
	struct srctl_opts o;
	struct simple_remap sr;
	uint64_t seq;
	int ret;

	parse_opts(argc, argv, wait ? "t:" : "", NULL, &o);
	/* notify: waking every waiter takes write access, as write() does. */
	open_dev(&sr, wait ? O_RDONLY : O_RDWR);
	if (!wait) {
		ret = simple_remap_notify(&sr, &seq);
	} else {
		ret = simple_remap_wait(&sr, o.timeout_ms);
		if (ret == -ETIMEDOUT)
			die("no notification within %d ms", o.timeout_ms);
		if (!ret)
			ret = simple_remap_ack(&sr, &seq);
	}
	if (ret)
		die("%s: %s", argv[0], strerror(-ret));
	printf("%" PRIu64 "\n", seq);
	simple_remap_close(&sr);
	return 0;
}

/*
 * export: a window of the buffer as a dma-buf, handed to a command: srctl
 * becomes CMD, which finds the dma-buf open on the descriptor named by
 * $SIMPLE_REMAP_DMABUF_FD (its size in $SIMPLE_REMAP_DMABUF_SIZE), and
 * nothing else of the device's: it can map that window, pass it on, or
 * give it to a kernel importer. The exit status is CMD's.
 */
static int cmd_export(int argc, char **argv)
{
	struct simple_remap sr;
	struct srctl_opts o;
	char num[32];
	uint64_t size, ps, len;
	int buf, ret;

	parse_opts(argc, argv, "o:l:r", "CMD [ARGS...]", &o);
	if (!o.nr_args)
		usage_error("export: no command to run");
	open_dev(&sr, o.readonly ? O_RDONLY : O_RDWR);
	size = sr.info.size;
	ps = sr.info.page_size;
	if (o.offset % ps || o.length % ps)
		die("a window starts and ends on a page boundary (the page size is %" PRIu64
		    "); nothing done", ps);
	if (o.offset >= size)
		die("offset %" PRIu64 " is past the end of the %" PRIu64 "-byte buffer",
		    o.offset, size);
	len = o.length ? o.length : size - o.offset;
	if (len > size - o.offset)
		die("%" PRIu64 " bytes at offset %" PRIu64 " do not fit in the %" PRIu64
		    "-byte buffer (%" PRIu64 " left); nothing done",
		    len, o.offset, size, size - o.offset);
	ret = simple_remap_export(&sr, o.offset, len, o.readonly ? O_RDONLY : O_RDWR, &buf);
	if (ret)
		die("cannot export a window of %s: %s", dev_path, strerror(-ret));
	/* The command gets the window, not the device. */
	simple_remap_close(&sr);
	snprintf(num, sizeof(num), "%d", buf);
	setenv("SIMPLE_REMAP_DMABUF_FD", num, 1);
	snprintf(num, sizeof(num), "%" PRIu64, len);
	setenv("SIMPLE_REMAP_DMABUF_SIZE", num, 1);
	fflush(stdout);
	execvp(o.args[0], o.args);
	ret = errno;
	fprintf(stderr, "%s: cannot run '%s': %s\n", prog, o.args[0], strerror(ret));
	return ret == ENOENT ? 127 : 126;
}

static const struct srctl_cmd cmds[] = {
	{ "info", cmd_info, "info",
	  "size, page size, mappings, ABI, chunks, counter" },
	{ "write", cmd_write, "write [-o OFF] [DATA|-]",
	  "write DATA (or stdin) at OFF" },
	{ "read", cmd_read, "read [-o OFF] [-l LEN]",
	  "copy LEN bytes at OFF to stdout (default: to the end)" },
	{ "dump", cmd_dump, "dump [-o OFF] [-l LEN]",
	  "hex dump (default 256 bytes)" },
	{ "fill", cmd_fill_verify, "fill [-o OFF] [-l LEN] [-p PAT]",
	  "fill with a pattern (default: to the end)" },
	{ "verify", cmd_fill_verify, "verify [-o OFF] [-l LEN] [-p PAT]",
	  "check a pattern; exit 1 at the first mismatch" },
	{ "notify", cmd_notify_wait, "notify",
	  "wake every process waiting on the device" },
	{ "wait", cmd_notify_wait, "wait [-t MS]",
	  "wait for a notification (default: forever)" },
	{ "export", cmd_export, "export [-o OFF] [-l LEN] [-r] CMD",
	  "run CMD [ARGS] holding a window as a dma-buf" },
	{}
};

static void usage(FILE *f)
{
	const struct srctl_cmd *c;

	fprintf(f,
		"usage: %s [-d DEVICE] COMMAND [OPTIONS] [ARGS]\n"
		"\n"
		"Reads and writes the simple_remap buffer through its mapping.\n"
		"\n"
		"commands:\n", prog);
	for (c = cmds; c->name; c++)
		fprintf(f, "  %-34s %s\n", c->usage, c->help);
	fprintf(f,
		"\n"
		"PAT: zero, a byte (0xa5), or offset (each 8-byte word holds its offset;\n"
		"the default, which catches misplaced pages). Numbers take 0x and K/M/G.\n"
		"export: the window (default: the whole buffer, writable; -r: read-only)\n"
		"is open on fd $SIMPLE_REMAP_DMABUF_FD in CMD, its size in\n"
		"$SIMPLE_REMAP_DMABUF_SIZE; srctl becomes CMD (its exit status).\n"
		"Options come before arguments. DEVICE defaults to %s.\n",
		SIMPLE_REMAP_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt, at;

	/* Global options stop at the command, which parses its own. */
	opterr = 0;
	for (at = 1; (opt = getopt_long(argc, argv, "+:d:h", longopts, NULL)) != -1;
	     at = optind) {
		switch (opt) {
		case 'd':
			dev_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usage_error("option '-%c' needs a value", optopt);
		default:
			usage_error("unknown option '%s'", bad_option(argv, at));
		}
	}
	if (optind >= argc)
		usage_error("no command");
	for (cmd = cmds; cmd->name; cmd++)
		if (!strcmp(cmd->name, argv[optind]))
			return cmd->fn(argc - optind, argv + optind);
	cmd = NULL;
	usage_error("unknown command '%s'", argv[optind]);
}
