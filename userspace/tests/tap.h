/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small TAP harness in the spirit of kselftest_harness.h. TEST(name)
 * registers a test; tap_main() runs each in its own forked child, in its
 * own process group, under an alarm, so a crash, a signal or a hang fails
 * that test alone and takes whatever it started down with it. TAP 13 out,
 * exit status 0 iff every test passed (or was skipped).
 *
 *	TEST(read_at_end_returns_zero)
 *	{
 *		ASSERT_EQ(0, pread(fd, buf, 1, size));
 *		ASSERT_ERRNO(ENOSPC, pwrite(fd, buf, 1, size));
 *	}
 *
 * ASSERT_*() ends the test on failure, EXPECT_*() records it and goes on.
 * Each failure prints "# file:line: expression: expected X, got Y (errno E)".
 */
#ifndef TAP_H
#define TAP_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAP_MAX_TESTS	128
#ifndef TAP_TIMEOUT_S
#define TAP_TIMEOUT_S	120
#endif
#define TAP_SKIP_STATUS	77
#define TAP_REASON_MAX	256

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

struct tap_test {
	const char *name;
	void (*fn)(void);
};

static struct tap_test tap_tests[TAP_MAX_TESTS];
static int tap_nr_tests;
/* In a test's process: an EXPECT_*() failed. */
static int tap_failed;
/* Shared with every test's process: why it skipped. */
static char *tap_skip_reason;

static inline void tap_register(const char *name, void (*fn)(void))
{
	if (tap_nr_tests == TAP_MAX_TESTS) {
		fprintf(stderr, "tap: more than %d tests\n", TAP_MAX_TESTS);
		exit(2);
	}
	tap_tests[tap_nr_tests++] = (struct tap_test){ name, fn };
}

/* Registered in definition order: constructors run in that order. */
#define TEST(name)							\
	static void name(void);						\
	static void __attribute__((constructor)) tap_reg_##name(void)	\
	{								\
		tap_register(#name, name);				\
	}								\
	static void name(void)

static inline const char *tap_errname(int err)
{
	return err ? strerrorname_np(err) ?: "?" : "0";
}

/* A diagnostic line; it never breaks the TAP stream. */
#define TAP_DIAG(fmt, ...) \
	printf("# %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__)

static inline void tap_fail(int fatal)
{
	fflush(stdout);
	if (fatal)
		_exit(1);
	tap_failed = 1;
}

#define TAP_FAIL(fmt, ...)						\
	do {								\
		TAP_DIAG(fmt, ##__VA_ARGS__);				\
		tap_fail(1);						\
	} while (0)

/* This system cannot run the test: "ok N - name # SKIP reason". */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
TAP_SKIP(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (tap_skip_reason)
		vsnprintf(tap_skip_reason, TAP_REASON_MAX, fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(TAP_SKIP_STATUS);
}

/* errno is cleared first, so that the one reported is the expression's. */
#define __TAP_CMP(fatal, op, expected, actual, text)				\
	do {								\
		long long _e, _a;					\
		int _errno;						\
		errno = 0;						\
		_e = (long long)(expected);				\
		_a = (long long)(actual);				\
		_errno = errno;						\
		if (!(_e op _a)) {					\
			TAP_DIAG("%s: expected %s%lld, got %lld (errno %s)", \
				 text, #op[0] == '=' ? "" : "not ",	\
				 _e, _a, tap_errname(_errno));		\
			tap_fail(fatal);				\
		}							\
	} while (0)

/* Stringified here, before the arguments' macros expand. */
#define ASSERT_EQ(expected, actual)	__TAP_CMP(1, ==, expected, actual, #actual)
#define EXPECT_EQ(expected, actual)	__TAP_CMP(0, ==, expected, actual, #actual)
#define ASSERT_NE(unexpected, actual)	__TAP_CMP(1, !=, unexpected, actual, #actual)
#define EXPECT_NE(unexpected, actual)	__TAP_CMP(0, !=, unexpected, actual, #actual)

#define __TAP_TRUE(fatal, cond, text)						\
	do {								\
		if (!(cond)) {						\
			TAP_DIAG("%s: false", text);			\
			tap_fail(fatal);				\
		}							\
	} while (0)

#define ASSERT_TRUE(cond)	__TAP_TRUE(1, cond, #cond)
#define EXPECT_TRUE(cond)	__TAP_TRUE(0, cond, #cond)

/* @call must fail, returning -1 (or MAP_FAILED), with errno @err. */
#define __TAP_ERRNO(fatal, err, call, text)					\
	do {								\
		long long _r;						\
		int _errno;						\
		errno = 0;						\
		_r = (long long)(call);					\
		_errno = errno;						\
		if (_r != -1 || _errno != (err)) {			\
			TAP_DIAG("%s: expected -1 (errno %s), got %lld (errno %s)", \
				 text, tap_errname(err), _r,		\
				 tap_errname(_errno));			\
			tap_fail(fatal);				\
		}							\
	} while (0)

#define ASSERT_ERRNO(err, call)	__TAP_ERRNO(1, err, call, #call)
#define EXPECT_ERRNO(err, call)	__TAP_ERRNO(0, err, call, #call)

/* Test @i in this (forked) process: its exit status is the verdict. */
static inline void __attribute__((noreturn)) tap_run_child(int i)
{
	setpgid(0, 0);
	alarm(TAP_TIMEOUT_S);
	tap_failed = 0;
	tap_tests[i].fn();
	fflush(stdout);
	_exit(tap_failed);
}

/* One TAP line for test @i, which ended with wait status @status. */
static inline int tap_report(int i, int status, const char *variant)
{
	const char *name = tap_tests[i].name;

	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s%s\n", i + 1, name, variant);
		return 0;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIP_STATUS) {
		printf("ok %d - %s%s # SKIP %s\n", i + 1, name, variant,
		       tap_skip_reason);
		return 0;
	}
	printf("not ok %d - %s%s", i + 1, name, variant);
	if (status == -1)
		printf(" # could not fork: %s", strerror(errno));
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		printf(" # timed out after %d s", TAP_TIMEOUT_S);
	else if (WIFSIGNALED(status))
		printf(" # killed by SIG%s", sigabbrev_np(WTERMSIG(status)) ?: "?");
	else if (WEXITSTATUS(status) != 1)
		printf(" # exit status %d", WEXITSTATUS(status));
	printf("\n");
	return 1;
}

/*
 * Run every test in a child; @between runs in this process between two
 * tests (to restore a fixture a failed test may have left broken).
 * @variant is appended to each test's name ("" for none).
 */
static inline int tap_main(void (*between)(void), const char *variant)
{
	int i, status, failed = 0;
	pid_t pid;

	tap_skip_reason = mmap(NULL, TAP_REASON_MAX, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tap_skip_reason == MAP_FAILED) {
		perror("tap: mmap");
		return 2;
	}
	/* Orphans of a test become ours, to be reaped before the next. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	printf("TAP version 13\n1..%d\n", tap_nr_tests);
	for (i = 0; i < tap_nr_tests; i++) {
		if (i && between)
			between();
		strcpy(tap_skip_reason, "no reason given");
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid == 0)
			tap_run_child(i);
		status = -1;
		if (pid > 0) {
			/* Either side may set the group first: no race. */
			setpgid(pid, pid);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			/*
			 * Whatever the test left running may hold the device:
			 * kill it, and wait (as their subreaper) until it is gone.
			 */
			if (kill(-pid, SIGKILL) == 0)
				while (waitpid(-pid, NULL, 0) > 0 || errno == EINTR)
					;
		}
		failed += tap_report(i, status, variant);
	}
	fflush(stdout);
	return failed ? 1 : 0;
}

#endif /* TAP_H */
