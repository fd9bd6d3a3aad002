/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small TAP harness in the spirit of kselftest_harness.h: TEST(name)
 * registers a test; each runs in its own forked child under an alarm, so a
 * crash, a signal or a hang fails that test alone. Output is TAP 13.
 *
 *	TEST(read_at_end_returns_zero)
 *	{
 *		ASSERT_EQ(0, pread(fd, buf, 1, size));
 *	}
 */
#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_MAX_TESTS	128
#define TAP_TIMEOUT_S	120

struct tap_test {
	const char *name;
	void (*fn)(void);
};

static struct tap_test tap_tests[TAP_MAX_TESTS];
static int tap_nr_tests;

static inline void tap_register(const char *name, void (*fn)(void))
{
	if (tap_nr_tests < TAP_MAX_TESTS)
		tap_tests[tap_nr_tests++] = (struct tap_test){ name, fn };
}

#define TEST(name)							\
	static void name(void);						\
	static void __attribute__((constructor)) tap_reg_##name(void)	\
	{								\
		tap_register(#name, name);				\
	}								\
	static void name(void)

/* A diagnostic line; it never breaks the TAP stream. */
#define TAP_DIAG(fmt, ...) \
	printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__)

#define TAP_FAIL(fmt, ...)						\
	do {								\
		TAP_DIAG(fmt, ##__VA_ARGS__);				\
		fflush(stdout);						\
		_exit(1);						\
	} while (0)

/* This kernel cannot run the test: TAP's "ok ... # SKIP", with the reason. */
#define TAP_SKIP_STATUS	77
#define TAP_SKIP(reason)						\
	do {								\
		printf("# skip: %s\n", reason);			\
		fflush(stdout);						\
		_exit(TAP_SKIP_STATUS);					\
	} while (0)

#define ASSERT_EQ(expected, actual)					\
	do {								\
		long long _e = (long long)(expected);			\
		long long _a = (long long)(actual);			\
		if (_e != _a)						\
			TAP_FAIL("%s: expected %lld, got %lld (errno %s)", \
				 #actual, _e, _a, strerrorname_np(errno) ?: "0"); \
	} while (0)

#define ASSERT_NE(unexpected, actual)					\
	do {								\
		long long _u = (long long)(unexpected);			\
		long long _a = (long long)(actual);			\
		if (_u == _a)						\
			TAP_FAIL("%s: got %lld (errno %s)", #actual, _a, \
				 strerrorname_np(errno) ?: "0");	\
	} while (0)

#define ASSERT_TRUE(cond)						\
	do {								\
		if (!(cond))						\
			TAP_FAIL("%s: false", #cond);			\
	} while (0)

/* @call must fail with -1 (or MAP_FAILED) and set errno to @err. */
#define ASSERT_ERRNO(err, call)						\
	do {								\
		long long _r;						\
		int _errno;						\
		errno = 0;						\
		_r = (long long)(call);					\
		_errno = errno;						\
		if (_r != -1 || _errno != (err))			\
			TAP_FAIL("%s: expected -1 with %s, got %lld with %s", \
				 #call, strerrorname_np(err),		\
				 _r, strerrorname_np(_errno) ?: "0");	\
	} while (0)

/*
 * Run every test in a child; @between runs in the parent after each one
 * (to restore a fixture a failed test may have left broken). @variant is
 * appended to each test's name ("" for none).
 */
static inline int tap_main(void (*between)(void), const char *variant)
{
	int i, status, failed = 0;
	pid_t pid;

	printf("TAP version 13\n1..%d\n", tap_nr_tests);
	fflush(stdout);
	for (i = 0; i < tap_nr_tests; i++) {
		pid = fork();
		if (pid == 0) {
			alarm(TAP_TIMEOUT_S);
			tap_tests[i].fn();
			fflush(stdout);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %d - %s%s\n", i + 1, tap_tests[i].name, variant);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIP_STATUS) {
			printf("ok %d - %s%s # SKIP\n", i + 1, tap_tests[i].name, variant);
		} else {
			failed++;
			printf("not ok %d - %s%s", i + 1, tap_tests[i].name, variant);
			if (status != -1 && WIFSIGNALED(status))
				printf(" # killed by %s", strsignal(WTERMSIG(status)));
			printf("\n");
		}
		fflush(stdout);
		if (between)
			between();
	}
	return failed ? 1 : 0;
}

#endif /* TAP_H */
