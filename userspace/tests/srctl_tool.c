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
static struct srctl_run srctl(const char *in, const char *fmt, ...)
{
	static struct srctl_run r;
	char args[256], cmd[512], io[3][64];
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
	if (r.err[0])
		printf("# srctl %s: %s", args, r.err);
	return r;
}

#define ASSERT_HAS(text, needle)					\
	do {								\
		if (!strstr(text, needle))				\
			printf("# no '%s' in:\n%s\n", needle, text);	\
		ASSERT_TRUE(strstr(text, needle) != NULL);		\
	} while (0)

static void put(uint64_t off, const char *s)
{
	int fd = sr_open(O_RDWR);

	ASSERT_EQ((ssize_t)strlen(s), pwrite(fd, s, strlen(s), (off_t)off));
	close(fd);
}

static void get(uint64_t off, void *buf, size_t len)
{
	int fd = sr_open(O_RDONLY);

	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, (off_t)off));
	close(fd);
}

TEST(info_reports_the_loaded_buffer)
{
	struct srctl_run r = srctl(NULL, "info");
	char line[64];

	ASSERT_EQ(0, r.status);
	snprintf(line, sizeof(line), "size:        %" PRIu64 "\n", sr_size());
	ASSERT_HAS(r.out, line);
	snprintf(line, sizeof(line), "page_size:   %ld\n", sr_page_size());
	ASSERT_HAS(r.out, line);
	snprintf(line, sizeof(line), "abi_version: %d\n", SIMPLE_REMAP_ABI_VERSION);
	ASSERT_HAS(r.out, line);
}

TEST(write_then_read_round_trips)
{
	struct srctl_run r;
	char buf[8] = "";

	ASSERT_EQ(0, srctl(NULL, "write -o 100 hello").status);
	get(100, buf, 5);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	r = srctl(NULL, "read -o 100 -l 5");
	ASSERT_EQ(0, r.status);
	ASSERT_EQ(0, strcmp(r.out, "hello"));
}

TEST(write_takes_stdin)
{
	char buf[16] = "";

	ASSERT_EQ(0, srctl("from stdin\n", "write -o 0x2000 -").status);
	get(0x2000, buf, 11);
	ASSERT_EQ(0, memcmp(buf, "from stdin\n", 11));
}

TEST(dump_shows_hex_and_text)
{
	struct srctl_run r;

	ASSERT_EQ(0, srctl(NULL, "fill -p zero -l 16").status);
	put(0, "hello, dump");
	r = srctl(NULL, "dump -l 16");
	ASSERT_EQ(0, r.status);
	ASSERT_HAS(r.out, "00000000  68 65 6c 6c 6f 2c 20 64  75 6d 70");
	ASSERT_HAS(r.out, "|hello, dump.....|");
}

TEST(dump_stops_at_the_end_of_the_buffer)
{
	uint64_t size = sr_size();
	struct srctl_run r = srctl(NULL, "dump -o %" PRIu64, size - 8);
	char line[32];

	ASSERT_EQ(0, r.status);
	snprintf(line, sizeof(line), "%08" PRIx64 "  ", size - 8);
	ASSERT_HAS(r.out, line);
	/* One line: the 8 bytes left, not the default 256. */
	ASSERT_EQ(strlen(r.out) - 1, (size_t)(strchr(r.out, '\n') - r.out));
}

TEST(fill_and_verify_the_offset_pattern_across_pages)
{
	uint64_t word;
	char c;
	struct srctl_run r;

	put(4092, "z");
	ASSERT_EQ(0, srctl(NULL, "fill -o 4093 -l 10000").status);
	r = srctl(NULL, "verify -o 4093 -l 10000");
	ASSERT_EQ(0, r.status);
	ASSERT_HAS(r.out, "verified 10000 bytes at offset 4093");
	/* Each 8-byte word holds its offset; the byte before stays. */
	get(8192, &word, 8);
	ASSERT_EQ(8192ull, word);
	get(4092, &c, 1);
	ASSERT_EQ('z', c);
}

TEST(verify_reports_the_first_mismatch)
{
	struct srctl_run r;

	ASSERT_EQ(0, srctl(NULL, "fill -p zero -l 4096").status);
	put(50, "x");
	r = srctl(NULL, "verify -p zero -l 4096");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "mismatch at offset 50: expected 0x00, found 0x78");
}

TEST(write_past_the_end_fails_and_writes_nothing)
{
	uint64_t size = sr_size();
	char buf[4];
	struct srctl_run r;

	put(size - 4, "wxyz");
	r = srctl(NULL, "write -o %" PRIu64 " abcdefgh", size - 4);
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "do not fit");
	ASSERT_HAS(r.err, "nothing done");
	get(size - 4, buf, 4);
	ASSERT_EQ(0, memcmp(buf, "wxyz", 4));
}

TEST(offset_past_the_end_fails)
{
	struct srctl_run r = srctl(NULL, "read -o %" PRIu64, sr_size());

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "past the end");
	ASSERT_EQ(0, r.out[0]);
}

TEST(bad_arguments_are_refused_clearly)
{
	struct srctl_run r;

	r = srctl(NULL, "read -l 0");
	ASSERT_EQ(2, r.status);
	ASSERT_HAS(r.err, "length must be at least 1");
	r = srctl(NULL, "frobnicate");
	ASSERT_EQ(2, r.status);
	ASSERT_HAS(r.err, "unknown command 'frobnicate'");
	r = srctl(NULL, "read -o 12Q");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "offset '12Q' is not a size");
	r = srctl(NULL, "fill -p 0x100 -l 1");
	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "neither zero, offset nor a byte");
}

TEST(missing_device_asks_whether_the_module_is_loaded)
{
	struct srctl_run r = srctl(NULL, "-d /dev/simple_remap_missing info");

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "cannot open /dev/simple_remap_missing");
	ASSERT_HAS(r.err, "is the module loaded?");
}

TEST(wait_times_out_then_sees_a_notification)
{
	struct srctl_run r = srctl(NULL, "wait -t 100");
	pid_t pid, done = 0;
	int status, i;

	ASSERT_EQ(1, r.status);
	ASSERT_HAS(r.err, "no notification within 100 ms");
	/*
	 * A waiter in the background. It waits for notifications after its
	 * open(): notify every 200 ms until it has seen one.
	 */
	pid = fork();
	if (pid == 0)
		_exit(srctl(NULL, "wait -t 20000").status);
	for (i = 0; i < 50 && !done; i++) {
		usleep(200 * 1000);
		ASSERT_EQ(0, srctl(NULL, "notify").status);
		done = waitpid(pid, &status, WNOHANG);
	}
	ASSERT_EQ(pid, done);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
	return sr_main();
}
