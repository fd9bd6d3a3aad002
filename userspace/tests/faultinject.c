// SPDX-License-Identifier: GPL-2.0
/*
 * Under failslab and fail_page_alloc (debug kernel only), loading the module
 * with several sizes, mapping it and calling its ioctls many times: every
 * attempt succeeds or fails cleanly, and nothing is left half done. Only
 * this process is failed (task-filter, /proc/self/make-it-fail). The
 * harness fails the run on any KASAN, lockdep, UBSAN or kmemleak report.
 */
#include "sr_tap.h"

#define FI "/sys/kernel/debug/"

static void fi_setup(const char *what, const char *percent)
{
	char path[128];
	static const char *const attrs[][2] = {
		{ "task-filter", "Y" }, { "interval", "1" }, { "times", "-1" },
		{ "verbose", "0" }, { "ignore-gfp-wait", "N" },
	};
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(path, sizeof(path), FI "%s/%s", what, attrs[i][0]);
		ASSERT_EQ(0, sr_write_file(path, attrs[i][1]));
	}
	snprintf(path, sizeof(path), FI "%s/probability", what);
	ASSERT_EQ(0, sr_write_file(path, percent));
}

/*
 * /proc/self/make-it-fail, opened before any failure is injected. Turning
 * it off is itself a write that may fail: retry until it takes.
 */
static int make_it_fail = -1;

static void fail_me(int on)
{
	int i;

	if (make_it_fail < 0)
		make_it_fail = open("/proc/self/make-it-fail", O_WRONLY | O_CLOEXEC);
	ASSERT_TRUE(make_it_fail >= 0);
	for (i = 0; i < 10000; i++)
		if (pwrite(make_it_fail, on ? "1" : "0", 1, 0) == 1)
			return;
	TAP_FAIL("cannot set make-it-fail to %d", on);
}

static bool have_fault_injection(void)
{
	return access(FI "failslab", F_OK) == 0 && access(FI "fail_page_alloc", F_OK) == 0;
}

TEST(load_under_fault_injection_succeeds_or_unwinds)
{
	static const char *const sizes[] = { "size=4K", "size=1M", "size=8M", "size=24M" };
	int i, ret, ok = 0, failed = 0;

	if (!have_fault_injection())
		TAP_SKIP("no failslab/fail_page_alloc: make check-debug runs this");
	ASSERT_EQ(0, sr_unload());
	/* A load makes hundreds of allocations: 1 % fails about half of them. */
	fi_setup("failslab", "1");
	fi_setup("fail_page_alloc", "1");
	for (i = 0; i < 40; i++) {
		fail_me(1);
		ret = sr_load(sizes[i % 4]);
		fail_me(0);
		if (ret) {
			ASSERT_TRUE(!sr_loaded());
			failed++;
			continue;
		}
		ok++;
		ASSERT_EQ(0, sr_unload());
	}
	printf("# %d loads succeeded, %d failed cleanly\n", ok, failed);
	ASSERT_EQ(0, sr_load(NULL));
}

TEST(mmap_and_ioctls_under_fault_injection)
{
	int i, fd, err, loops = 300, ok = 0, failed = 0;
	long ps = sr_page_size();
	__u64 seq;
	char *p;

	if (!have_fault_injection())
		TAP_SKIP("no failslab/fail_page_alloc: make check-debug runs this");
	fi_setup("failslab", "10");
	fi_setup("fail_page_alloc", "10");
	for (i = 0; i < loops; i++) {
		fail_me(1);
		fd = open(SR_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			fail_me(0);
			ASSERT_EQ(ENOMEM, err);
			failed++;
			continue;
		}
		p = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (i % 8) * ps);
		if (p != MAP_FAILED)
			p[0] = (char)i;
		ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &seq);
		ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq);
		/* Tearing down is not under test: munmap() itself may need memory. */
		fail_me(0);
		if (p != MAP_FAILED) {
			ASSERT_EQ(0, munmap(p, 4 * ps));
			ok++;
		} else {
			failed++;
		}
		ASSERT_EQ(0, close(fd));
	}
	printf("# %d mappings made, %d attempts failed cleanly\n", ok, failed);
	fd = sr_open(O_RDONLY);
	ASSERT_EQ(0, sr_info(fd).mappings);
}

int main(void)
{
	return sr_main();
}
