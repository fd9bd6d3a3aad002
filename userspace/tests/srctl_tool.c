// SPDX-License-Identifier: GPL-2.0
/*
 * srctl, the command-line tool, run as a user would run it (from $PATH,
 * or $SRCTL): what each command prints and does to the buffer, checked
 * through the device itself, and for bad input a clear message, the exit
 * status (1: refused, 2: usage) and an untouched buffer.
 */
#include <inttypes.h>

#include "sr_test.h"

struct srctl_run {
	int status;		/* exit status; -1 if it did not exit */
	char out[8192];		/* stdout, NUL-terminated */
	char err[1024];		/* stderr, NUL-terminated */
};

static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* "srctl ARGS" through the shell, stdin from @in (NULL: empty). */
static struct srctl_run srctl(struct __test_metadata *_metadata, const char *in, const char *fmt, ...)
{
	static struct srctl_run r;
	char args[256], cmd[512], io[3][64], diag[sizeof(r.err)], *line, *save;
	va_list ap;
	int fd, st, i;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	for (i = 0; i < 3; i++)
		snprintf(io[i], sizeof(io[i]), "/tmp/srctl.%d.%s", getpid(),
			 (const char *[]){ "in", "out", "err" }[i]);
	fd = open(io[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	if (in)
		ASSERT_EQ((ssize_t)strlen(in), write(fd, in, strlen(in)));
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s %s <%s >%s 2>%s",
		 getenv("SRCTL") ?: "srctl", args, io[0], io[1], io[2]);
	st = system(cmd);
	r.status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(io[1], r.out, sizeof(r.out));
	slurp(io[2], r.err, sizeof(r.err));
	for (i = 0; i < 3; i++)
		unlink(io[i]);
	/* stderr as TAP diagnostics, each line behind a '#'. */
	strcpy(diag, r.err);
	for (line = strtok_r(diag, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# srctl %s: %s\n", args, line);
	return r;
}

#define ASSERT_HAS(text, needle)					\
	do {								\
		if (!strstr(text, needle))				\
			printf("# no '%s' in:\n%s\n", needle, text);	\
		ASSERT_TRUE(strstr(text, needle) != NULL);		\
	} while (0)

static void put(struct __test_metadata *_metadata, uint64_t off, const char *s)
{
	int fd = sr_open(_metadata, O_RDWR);

	ASSERT_EQ((ssize_t)strlen(s), pwrite(fd, s, strlen(s), (off_t)off));
	close(fd);
}

static void get(struct __test_metadata *_metadata, uint64_t off, void *buf, size_t len)
{
	int fd = sr_open(_metadata, O_RDONLY);

	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, (off_t)off));
	close(fd);
}

/*
 * GET_INFO's map_granule in the loaded mode: a PMD in huge mode where the
 * kernel maps PFNs with huge entries (6.12 on, the debug tier's 6.12 too),
 * else a page.
 */
static uint64_t expected_granule(struct __test_metadata *_metadata)
{
	if (!strcmp(sr_map_mode(_metadata), "huge") && !sr_kernel_before(6, 12))
		return 2 << 20;
	return sr_page_size();
}

TEST_F(sr, info_reports_the_loaded_buffer)
{
	struct srctl_run r = srctl(_metadata, NULL, "info");
	int fd = sr_open(_metadata, O_RDONLY);
	struct simple_remap_info info = sr_info(_metadata, fd);
	char line[64];

	close(fd);
	ASSERT_EQ(0, r.status);
	snprintf(line, sizeof(line), "size:        %" PRIu64 "\n", sr_size(_metadata));
	ASSERT_HAS(r.out, line);
	snprintf(line, sizeof(line), "page_size:   %ld\n", sr_page_size());
	ASSERT_HAS(r.out, line);
	snprintf(line, sizeof(line), "abi_version: %d\n", SIMPLE_REMAP_ABI_VERSION);
	ASSERT_HAS(r.out, line);
	/* ABI 3: the same as GET_INFO's and sysfs's, which the kernel decides. */
	ASSERT_EQ(expected_granule(_metadata), info.map_granule);
	ASSERT_EQ(sr_counter(_metadata, "map_granule"), info.map_granule);
	snprintf(line, sizeof(line), "map_granule: %" PRIu64 "\n", (uint64_t)info.map_granule);
	ASSERT_HAS(r.out, line);
}

TEST_F(sr, write_then_read_round_trips)
{
	struct srctl_run r;
	char buf[8] = "";

	ASSERT_EQ(0, srctl(_metadata, NULL, "write -o 100 hello").status);
	get(_metadata, 100, buf, 5);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	r = srctl(_metadata, NULL, "read -o 100 -l 5");
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(0, strcmp(r.out, "hello"));
}

TEST_F(sr, write_takes_stdin)
{
	char buf[16] = "";

	ASSERT_EQ(0, srctl(_metadata, "from stdin\n", "write -o 0x2000 -").status);
	get(_metadata, 0x2000, buf, 11);
	ASSERT_EQ(0, memcmp(buf, "from stdin\n", 11));
}

TEST_F(sr, dump_shows_hex_and_text)
{
	struct srctl_run r;

	ASSERT_EQ(0, srctl(_metadata, NULL, "fill -p zero -l 16").status);
	put(_metadata, 0, "hello, dump");
	r = srctl(_metadata, NULL, "dump -l 16");
	ASSERT_EQ(0, r.status);
	ASSERT_HAS(r.out, "00000000  68 65 6c 6c 6f 2c 20 64  75 6d 70");
	ASSERT_HAS(r.out, "|hello, dump.....|");
}

TEST_F(sr, dump_stops_at_the_end_of_the_buffer)
{
	uint64_t size = sr_size(_metadata);
	struct srctl_run r = srctl(_metadata, NULL, "dump -o %" PRIu64, size - 8);
	char line[32];

	ASSERT_EQ(0, r.status);
	snprintf(line, sizeof(line), "%08" PRIx64 "  ", size - 8);
	ASSERT_HAS(r.out, line);
	/* One line: the 8 bytes left, not the default 256. */
	ASSERT_EQ(strlen(r.out) - 1, (size_t)(strchr(r.out, '\n') - r.out));
}

TEST_F(sr, fill_and_verify_the_offset_pattern_across_pages)
{
	uint64_t word;
	char c;
	struct srctl_run r;

	put(_metadata, 4092, "z");
	ASSERT_EQ(0, srctl(_metadata, NULL, "fill -o 4093 -l 10000").status);
	r = srctl(_metadata, NULL, "verify -o 4093 -l 10000");
	ASSERT_EQ(0, r.status);
	ASSERT_HAS(r.out, "verified 10000 bytes at offset 4093");
	/* Each 8-byte word holds its offset; the byte before stays. */
	get(_metadata, 8192, &word, 8);
	ASSERT_EQ(8192ull, word);
	get(_metadata, 4092, &c, 1);
	ASSERT_EQ('z', c);
}

TEST_F(sr, verify_reports_the_first_mismatch)
{
	struct srctl_run r;

	ASSERT_EQ(0, srctl(_metadata, NULL, "fill -p zero -l 4096").status);
	put(_metadata, 50, "x");
	r = srctl(_metadata, NULL, "verify -p zero -l 4096");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "mismatch at offset 50: expected 0x00, found 0x78");
}

TEST_F(sr, write_past_the_end_fails_and_writes_nothing)
{
	uint64_t size = sr_size(_metadata);
	char buf[4];
	struct srctl_run r;

	put(_metadata, size - 4, "wxyz");
	r = srctl(_metadata, NULL, "write -o %" PRIu64 " abcdefgh", size - 4);
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "do not fit");
	ASSERT_HAS(r.err, "nothing done");
	get(_metadata, size - 4, buf, 4);
	ASSERT_EQ(0, memcmp(buf, "wxyz", 4));
}

TEST_F(sr, offset_past_the_end_fails)
{
	struct srctl_run r = srctl(_metadata, NULL, "read -o %" PRIu64, sr_size(_metadata));

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "past the end");
	ASSERT_EQ(0, r.out[0]);
}

TEST_F(sr, bad_arguments_are_refused_clearly)
{
	struct srctl_run r;

	r = srctl(_metadata, NULL, "read -l 0");
	ASSERT_EQ(2, r.status);
	ASSERT_HAS(r.err, "length must be at least 1");
	r = srctl(_metadata, NULL, "frobnicate");
	ASSERT_EQ(2, r.status);
	ASSERT_HAS(r.err, "unknown command 'frobnicate'");
	r = srctl(_metadata, NULL, "read -o 12Q");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "offset '12Q' is not a size");
	r = srctl(_metadata, NULL, "fill -p 0x100 -l 1");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "neither zero, offset nor a byte");
}

TEST_F(sr, missing_device_asks_whether_the_module_is_loaded)
{
	struct srctl_run r = srctl(_metadata, NULL, "-d /dev/simple_remap_missing info");

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "cannot open /dev/simple_remap_missing");
	ASSERT_HAS(r.err, "is the module loaded?");
}

/*
 * A marker at both ends of the buffer and the notification counter: a
 * refused command must change none of them.
 */
#define MARK "untouched marker"

struct snapshot {
	uint64_t seq;
};

/* The counter is read last: a write() advances it too. */
static struct snapshot mark_buffer(struct __test_metadata *_metadata)
{
	struct snapshot s;
	int fd;

	put(_metadata, 0, MARK);
	put(_metadata, sr_size(_metadata) - strlen(MARK), MARK);
	fd = sr_open(_metadata, O_RDONLY);
	s.seq = sr_info(_metadata, fd).seq;
	close(fd);
	return s;
}

static void assert_untouched(struct __test_metadata *_metadata, struct snapshot s)
{
	char buf[sizeof(MARK)] = "";
	int fd = sr_open(_metadata, O_RDONLY);

	ASSERT_EQ(s.seq, sr_info(_metadata, fd).seq);
	close(fd);
	get(_metadata, 0, buf, strlen(MARK));
	ASSERT_EQ(0, strcmp(buf, MARK));
	get(_metadata, sr_size(_metadata) - strlen(MARK), buf, strlen(MARK));
	ASSERT_EQ(0, strcmp(buf, MARK));
}

/* "srctl ARGS" is a usage error: exit 2, @msg and @usage, nothing done. */
static void assert_usage_error(struct __test_metadata *_metadata, const char *args, const char *msg, const char *usage)
{
	struct snapshot s = mark_buffer(_metadata);
	struct srctl_run r = srctl(_metadata, NULL, "%s", args);

	if (r.status != 2)
		printf("# srctl %s: exit %d\n", args, r.status);
	ASSERT_EQ(2, r.status);
	ASSERT_HAS(r.err, msg);
	if (usage)
		ASSERT_HAS(r.err, usage);
	ASSERT_EQ(0, r.out[0]);
	assert_untouched(_metadata, s);
}

TEST_F(sr, info_with_an_option_is_a_usage_error)
{
	assert_usage_error(_metadata, "info -p x", "srctl: info takes no options\n",
			   "usage: srctl info\n");
}

/* Every command, given an option that another command takes. */
TEST_F(sr, each_command_refuses_an_option_it_does_not_take)
{
	static const char *const cases[][3] = {
		{ "info -o 0", "srctl: info takes no options\n", "usage: srctl info\n" },
		{ "write -l 3 abc", "srctl: write: unknown option '-l'\n",
		  "usage: srctl write [-o OFF] [DATA|-]\n" },
		{ "read -p zero", "srctl: read: unknown option '-p'\n",
		  "usage: srctl read [-o OFF] [-l LEN]\n" },
		{ "dump -t 5", "srctl: dump: unknown option '-t'\n",
		  "usage: srctl dump [-o OFF] [-l LEN]\n" },
		{ "fill -t 5", "srctl: fill: unknown option '-t'\n",
		  "usage: srctl fill [-o OFF] [-l LEN] [-p PAT]\n" },
		{ "verify -t 5", "srctl: verify: unknown option '-t'\n",
		  "usage: srctl verify [-o OFF] [-l LEN] [-p PAT]\n" },
		{ "notify -t 5", "srctl: notify takes no options\n", "usage: srctl notify\n" },
		{ "wait -o 0 -t 100", "srctl: wait: unknown option '-o'\n",
		  "usage: srctl wait [-t MS]\n" },
		{ "fill --length=4", "srctl: fill: unknown option '--length=4'\n", NULL },
		{ "export -t 5 true", "srctl: export: unknown option '-t'\n",
		  "usage: srctl export [-o OFF] [-l LEN] [-r] CMD\n" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_usage_error(_metadata, cases[i][0], cases[i][1], cases[i][2]);
}

TEST_F(sr, an_option_without_its_value_is_a_usage_error)
{
	assert_usage_error(_metadata, "read -o", "srctl: read: option '-o' needs a value\n",
			   "usage: srctl read [-o OFF] [-l LEN]\n");
	assert_usage_error(_metadata, "wait -t", "srctl: wait: option '-t' needs a value\n",
			   "usage: srctl wait [-t MS]\n");
}

TEST_F(sr, extra_arguments_are_usage_errors)
{
	assert_usage_error(_metadata, "info now", "srctl: info takes no arguments ('now' given)\n",
			   "usage: srctl info\n");
	assert_usage_error(_metadata, "notify all", "srctl: notify takes no arguments ('all' given)\n",
			   "usage: srctl notify\n");
	assert_usage_error(_metadata, "wait 100", "srctl: wait takes no arguments ('100' given)\n",
			   "usage: srctl wait [-t MS]\n");
	assert_usage_error(_metadata, "fill -l 4 zero", "srctl: fill takes no arguments ('zero' given)\n",
			   NULL);
	assert_usage_error(_metadata, "write -o 0 a b",
			   "srctl: write takes one DATA argument ('b' is one too many)\n",
			   "usage: srctl write [-o OFF] [DATA|-]\n");
}

/* Options come first; one after an argument is not taken for data. */
TEST_F(sr, an_option_after_an_argument_is_a_usage_error)
{
	assert_usage_error(_metadata, "write abc -o 4",
			   "srctl: write takes one DATA argument ('-o' is one too many;"
			   " options come before arguments)\n", NULL);
	assert_usage_error(_metadata, "read more -l 4",
			   "srctl: read takes no arguments ('more' given)\n", NULL);
}

TEST_F(sr, an_unknown_global_option_is_a_usage_error)
{
	assert_usage_error(_metadata, "-x info", "srctl: unknown option '-x' (see 'srctl --help')\n", NULL);
	assert_usage_error(_metadata, "-d", "srctl: option '-d' needs a value (see 'srctl --help')\n", NULL);
}

TEST_F(sr, help_lists_every_command)
{
	static const char *const lines[] = {
		"  info ", "  write [-o OFF] [DATA|-] ", "  read [-o OFF] [-l LEN] ",
		"  dump [-o OFF] [-l LEN] ", "  fill [-o OFF] [-l LEN] [-p PAT] ",
		"  verify [-o OFF] [-l LEN] [-p PAT] ", "  notify ", "  wait [-t MS] ",
		"  export [-o OFF] [-l LEN] [-r] CMD ",
	};
	struct srctl_run r = srctl(_metadata, NULL, "--help");
	size_t i;

	ASSERT_EQ(0, r.status);
	ASSERT_EQ(0, r.err[0]);
	ASSERT_HAS(r.out, "usage: srctl [-d DEVICE] COMMAND [OPTIONS] [ARGS]\n");
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		ASSERT_HAS(r.out, lines[i]);
}

TEST_F(sr, wait_times_out_then_sees_a_notification)
{
	struct srctl_run r = srctl(_metadata, NULL, "wait -t 100");
	int fd = sr_open(_metadata, O_RDONLY), status, i;
	uint64_t seq = sr_info(_metadata, fd).seq;
	pid_t pid, done = 0;
	char line[32];

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "no notification within 100 ms");
	/*
	 * A waiter in the background. It waits for notifications after its
	 * open(): notify every 200 ms until it has seen one.
	 */
	pid = fork();
	if (pid == 0)
		_exit(srctl(_metadata, NULL, "wait -t 20000").status);
	for (i = 0; i < 50 && !done; i++) {
		usleep(200 * 1000);
		/* Each prints the counter it advanced to. */
		r = srctl(_metadata, NULL, "notify");
		ASSERT_EQ(0, r.status);
		snprintf(line, sizeof(line), "%" PRIu64 "\n", seq + i + 1);
		ASSERT_EQ(0, strcmp(r.out, line));
		done = waitpid(pid, &status, WNOHANG);
	}
	ASSERT_EQ(seq + i, sr_info(_metadata, fd).seq);
	close(fd);
	ASSERT_EQ(pid, done);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* export: the command runs holding the window, as $SIMPLE_REMAP_DMABUF_FD says. */
TEST_F(sr, export_runs_the_command_with_the_window_open)
{
	long ps = sr_page_size();
	struct srctl_run r;
	char line[64];

	r = srctl(_metadata, NULL, "export -o %ld -l %ld -r -- sh -c "
		  "'cat /proc/self/fdinfo/$SIMPLE_REMAP_DMABUF_FD; echo size=$SIMPLE_REMAP_DMABUF_SIZE'",
		  2 * ps, 3 * ps);
	ASSERT_EQ(0, r.status);
	ASSERT_HAS(r.out, "exp_name:\tsimple_remap\n");
	snprintf(line, sizeof(line), "size:\t%ld\n", 3 * ps);
	ASSERT_HAS(r.out, line);
	snprintf(line, sizeof(line), "size=%ld\n", 3 * ps);
	ASSERT_HAS(r.out, line);
	/* The whole buffer by default; the command's exit status is srctl's. */
	r = srctl(_metadata, NULL, "export sh -c 'echo size=$SIMPLE_REMAP_DMABUF_SIZE; exit 7'");
	ASSERT_EQ(7, r.status);
	snprintf(line, sizeof(line), "size=%" PRIu64 "\n", sr_size(_metadata));
	ASSERT_HAS(r.out, line);
	/* Gone with the command: the module unloads. */
	ASSERT_EQ(0, sr_unload());
}

TEST_F(sr, export_usage_errors)
{
	static const char *const usage = "usage: srctl export [-o OFF] [-l LEN] [-r] CMD\n";

	assert_usage_error(_metadata, "export", "srctl: export: no command to run\n", usage);
	assert_usage_error(_metadata, "export -r", "srctl: export: no command to run\n", usage);
	assert_usage_error(_metadata, "export -o", "srctl: export: option '-o' needs a value\n",
			   usage);
	assert_usage_error(_metadata, "export -l 0 true",
			   "srctl: export: length must be at least 1\n", usage);
	assert_usage_error(_metadata, "export -p zero true", "srctl: export: unknown option '-p'\n",
			   usage);
}

TEST_F(sr, export_of_a_bad_window_is_refused_and_runs_nothing)
{
	long ps = sr_page_size();
	struct srctl_run r;

	r = srctl(_metadata, NULL, "export -o 100 echo ran");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "on a page boundary");
	ASSERT_EQ(0, r.out[0]);
	r = srctl(_metadata, NULL, "export -l %ld echo ran", ps + 1);
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "on a page boundary");
	r = srctl(_metadata, NULL, "export -o %" PRIu64 " echo ran", sr_size(_metadata));
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "past the end");
	r = srctl(_metadata, NULL, "export -o %ld -l %" PRIu64 " echo ran", ps, sr_size(_metadata));
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "do not fit");
	ASSERT_EQ(0, r.out[0]);
	r = srctl(_metadata, NULL, "export /no/such/command");
	ASSERT_EQ(127, r.status);
	ASSERT_HAS(r.err, "srctl: cannot run '/no/such/command'");
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
