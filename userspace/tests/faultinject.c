// SPDX-License-Identifier: GPL-2.0
/*
 * Every allocation a load, an open(), an mmap(), a first touch and an
 * export make, failed once each, in turn (debug kernel only). The kernel's
 * fail-nth does it: N written to /proc/thread-self/fail-nth fails the Nth
 * allocation site (failslab, fail_page_alloc) this task passes; read back,
 * it is 0 once the failure was injected. N = 1, 2, ... until the step
 * passes every site.
 * Each failure must be a clean error that leaves nothing behind; the harness
 * fails the run on any KASAN, lockdep, UBSAN or kmemleak report.
 */
#include "sr_test.h"

#define FI "/sys/kernel/debug/"
#define FI_SIZE (64 * 1024)
#define FI_PAGES 4
/* The load path's last sites, the driver's init among them. */
#define FI_TAIL 100
/* An empty 512 GiB region: a mapping there makes all its page tables anew. */
#define FI_FRESH ((void *)(1UL << 45))

/* Fail-nth goes through these filters too: every site counts at these. */
static const char *const fi_attrs[][2] = {
	{ FI "failslab/ignore-gfp-wait", "N" },
	{ FI "failslab/verbose", "0" },
	{ FI "fail_page_alloc/ignore-gfp-wait", "N" },
	{ FI "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ FI "fail_page_alloc/min-order", "0" },
	{ FI "fail_page_alloc/verbose", "0" },
};

static char fi_saved[ARRAY_SIZE(fi_attrs)][32];
static int fail_nth_fd = -1;

static bool fi_available(void)
{
	return !access(FI "fail_page_alloc", F_OK) && !access(FI "failslab", F_OK) &&
	       !access("/proc/thread-self/fail-nth", F_OK);
}

#define FI_SKIP_UNLESS_AVAILABLE()						\
	do {									\
		if (!fi_available())						\
			SKIP(return, "no fail-nth, failslab or fail_page_alloc: make check-debug runs this"); \
	} while (0)

/* Set the filters (saved for fi_end()) and open this task's fail-nth. */
static void fi_begin(struct __test_metadata *_metadata)
{
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(fi_attrs); i++) {
		fd = open(fi_attrs[i][0], O_RDONLY | O_CLOEXEC);
		ASSERT_TRUE(fd >= 0);
		ASSERT_TRUE(read(fd, fi_saved[i], sizeof(fi_saved[i]) - 1) > 0);
		close(fd);
		ASSERT_EQ(0, sr_write_file(fi_attrs[i][0], fi_attrs[i][1]));
	}
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_TRUE(fail_nth_fd >= 0);
}

static void fi_end(struct __test_metadata *_metadata)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fi_attrs); i++)
		ASSERT_EQ(0, sr_write_file(fi_attrs[i][0], fi_saved[i]));
	close(fail_nth_fd);
}

/* The Nth allocation site this task passes from now fails (0: none). */
static void fail_nth(struct __test_metadata *_metadata, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	ASSERT_EQ(len, pwrite(fail_nth_fd, buf, len, 0));
}

/* Disarm; whether the failure was injected. */
static bool fail_nth_injected(struct __test_metadata *_metadata)
{
	char buf[16] = "";

	ASSERT_TRUE(pread(fail_nth_fd, buf, sizeof(buf) - 1, 0) > 0);
	fail_nth(_metadata, 0);
	return atoi(buf) == 0;
}

/*
 * A step under test: @run (0 or -errno) with its Nth site failing. After a
 * success, with or without a failure injected (a fallback, a retry),
 * @undo checks the result and undoes it; after a failure, @failed checks
 * the errno and that nothing was left behind. @prepare, if any, runs
 * before each attempt, outside fail-nth.
 */
struct fi_step {
	const char *what;
	void (*prepare)(struct __test_metadata *_metadata);
	int (*run)(void);
	void (*undo)(struct __test_metadata *_metadata);
	void (*failed)(struct __test_metadata *_metadata, int err);
};

/*
 * Each site of @step from the @first on failed once, in turn; the number of
 * failed attempts, and in @sites the number of sites.
 */
static int fail_each_site(struct __test_metadata *_metadata, const struct fi_step *step,
			  int first, int *sites)
{
	int n, ret, failed = 0, went_on = 0;
	time_t start = time(NULL);
	bool injected;

	for (n = first;; n++) {
		if (step->prepare)
			step->prepare(_metadata);
		fail_nth(_metadata, n);
		ret = step->run();
		injected = fail_nth_injected(_metadata);
		if (!ret) {
			step->undo(_metadata);
			if (!injected)
				break;
			went_on++;
			continue;
		}
		ASSERT_TRUE(injected);
		step->failed(_metadata, -ret);
		failed++;
	}
	*sites = n - 1;
	printf("# %s: allocation sites %d to %d, each failed once: %d attempts failed cleanly, %d went on (a fallback or a retry), in %ld s\n",
	       step->what, first, n - 1, failed, went_on, (long)(time(NULL) - start));
	return failed;
}

/* Kernel log records since the last call that contain @text. */
static int kmsg_count(int fd, const char *text)
{
	char rec[1024];
	int found = 0;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		rec[n > 0 ? n : 0] = 0;
		found += strstr(rec, text) != NULL;
	}
	return found;
}

static int ko_fd, kmsg_fd, buffer_failures;
static char load_params[256];

static int load_run(void)
{
	return syscall(SYS_finit_module, ko_fd, load_params, 0) ? -errno : 0;
}

static void load_undo(struct __test_metadata *_metadata)
{
	sr_wait_dev();
	ASSERT_EQ(FI_SIZE, sr_size(_metadata));
	ASSERT_EQ(0, sr_unload());
}

static void load_failed(struct __test_metadata *_metadata, int err)
{
	ASSERT_EQ(ENOMEM, err);
	ASSERT_TRUE(!sr_loaded());
	ASSERT_NE(0, access(SR_DEV, F_OK));
	buffer_failures += kmsg_count(kmsg_fd, "cannot allocate the buffer") > 0;
}

/*
 * The module loader's own allocations, then the driver's init: each must
 * fail the load with ENOMEM, leave the module out, the node gone and no
 * tmpfs page behind. In pages and fault mode the tmpfs pages are allocated
 * by a kernel worker: fail-nth reaches them only if the driver hands the
 * count over, and then each page is a site of its own. One walk measured
 * 16 to 26 failed loads in the buffer's allocation in the page modes
 * (without the hand-over 3 or 4), 0 to 8 in remap mode: see the tail walks.
 */
TEST_F(sr, every_allocation_failure_at_load_unwinds)
{
	static const struct fi_step step = {
		"load", NULL, load_run, load_undo, load_failed,
	};
	long long shmem_before, shmem_after;
	bool page_modes = !sr_pfnmap(_metadata);
	int sites, tail, i;

	FI_SKIP_UNLESS_AVAILABLE();
	fi_begin(_metadata);
	ASSERT_EQ(0, sr_unload());
	ko_fd = open(sr_ko(), O_RDONLY | O_CLOEXEC);
	ASSERT_TRUE(ko_fd >= 0);
	snprintf(load_params, sizeof(load_params), "map_mode=%s size=%d", sr_mode, FI_SIZE);
	kmsg_fd = sr_kmsg_open(_metadata);
	shmem_before = sr_meminfo_kib(_metadata, "Shmem: %lld kB");
	ASSERT_TRUE(fail_each_site(_metadata, &step, 1, &sites) > 0);
	/*
	 * A site's N shifts by a few from one attempt to the next (the module
	 * loader's vmalloc() takes a site per per-CPU page list refill), so a
	 * walk can step over sites of the driver's init, which come last:
	 * walk the last FI_TAIL sites twice more.
	 */
	for (i = 0; i < 2; i++)
		fail_each_site(_metadata, &step, sites > FI_TAIL ? sites - FI_TAIL : 1, &tail);
	printf("# %d allocation sites on the load path; %d failed loads in the buffer's allocation\n",
	       sites, buffer_failures);
	/* In page modes each page is a site (if fail-nth reaches the worker). */
	ASSERT_TRUE(buffer_failures >= (page_modes ? FI_SIZE / sr_page_size() : 1));
	/*
	 * A failed load's tmpfs file is dropped in the worker, a kernel
	 * thread, whose last fput() the kernel finishes a tick later.
	 */
	for (i = 0; i < 20; i++) {
		shmem_after = sr_meminfo_kib(_metadata, "Shmem: %lld kB");
		if (shmem_after < shmem_before + FI_SIZE / 1024)
			break;
		usleep(100 * 1000);
	}
	printf("# Shmem before %lld KiB, after %lld KiB\n", shmem_before, shmem_after);
	ASSERT_TRUE(shmem_after < shmem_before + FI_SIZE / 1024);
	ASSERT_EQ(0, sr_load(NULL));
	fi_end(_metadata);
}

static int open_fd;
static long long open_refcnt;

static int open_run(void)
{
	open_fd = open(SR_DEV, O_RDWR | O_CLOEXEC);
	return open_fd < 0 ? -errno : 0;
}

static void open_undo(struct __test_metadata *_metadata)
{
	ASSERT_EQ(FI_SIZE, sr_info(_metadata, open_fd).size);
	ASSERT_EQ(0, close(open_fd));
}

/* Every open file holds the module: a failed open() must let go. */
static void open_failed(struct __test_metadata *_metadata, int err)
{
	ASSERT_EQ(ENOMEM, err);
	ASSERT_EQ(open_refcnt, sr_refcnt(_metadata));
}

TEST_F(sr, every_allocation_failure_in_open_fails_cleanly)
{
	static const struct fi_step step = {
		"open()", NULL, open_run, open_undo, open_failed,
	};
	int sites;

	FI_SKIP_UNLESS_AVAILABLE();
	fi_begin(_metadata);
	sr_reload(_metadata, "size=64K");
	open_refcnt = sr_refcnt(_metadata);
	ASSERT_TRUE(fail_each_site(_metadata, &step, 1, &sites) > 0);
	ASSERT_EQ(open_refcnt, sr_refcnt(_metadata));
	fi_end(_metadata);
}

static int map_fd, map_calls;
static char *map_p;

/* A fresh FI_SIZE buffer, open in map_fd, whose first byte is 't'. */
static void fi_map_fd_open(struct __test_metadata *_metadata)
{
	sr_reload(_metadata, "size=64K");
	map_fd = sr_open(_metadata, O_RDWR);
	ASSERT_EQ(1, pwrite(map_fd, "t", 1, 0));
}

static int mmap_run(void)
{
	map_p = mmap(FI_FRESH, FI_PAGES * sr_page_size(), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_FIXED_NOREPLACE, map_fd, 0);
	return map_p == MAP_FAILED ? -errno : 0;
}

static void mmap_undo(struct __test_metadata *_metadata)
{
	ASSERT_TRUE(map_p == FI_FRESH);
	ASSERT_EQ('t', map_p[0]);
	ASSERT_EQ(1, sr_info(_metadata, map_fd).mappings);
	ASSERT_EQ(++map_calls, sr_counter(_metadata, "mmap_calls"));
	ASSERT_EQ(0, munmap(map_p, FI_PAGES * sr_page_size()));
}

/* A failed mmap() leaves no mapping, counts none, and the range is free. */
static void mmap_failed(struct __test_metadata *_metadata, int err)
{
	ASSERT_EQ(ENOMEM, err);
	ASSERT_EQ(0, sr_info(_metadata, map_fd).mappings);
	ASSERT_EQ(map_calls, sr_counter(_metadata, "mmap_calls"));
	ASSERT_EQ(0, sr_counter(_metadata, "mappings"));
}

/*
 * The VMA, the maple tree, and the page tables a fresh region needs (made
 * by remap_pfn_range() in remap mode, vm_insert_pages() in pages mode).
 */
TEST_F(sr, every_allocation_failure_in_mmap_fails_cleanly)
{
	static const struct fi_step step = {
		"mmap()", NULL, mmap_run, mmap_undo, mmap_failed,
	};
	int sites;

	FI_SKIP_UNLESS_AVAILABLE();
	fi_begin(_metadata);
	fi_map_fd_open(_metadata);
	map_calls = sr_counter(_metadata, "mmap_calls");
	ASSERT_TRUE(fail_each_site(_metadata, &step, 1, &sites) > 0);
	/* Later mappings work, anywhere. */
	map_p = sr_mmap(_metadata, map_fd, FI_SIZE, PROT_READ, 0);
	ASSERT_EQ('t', map_p[0]);
	fi_end(_metadata);
}

static void touch_prepare(struct __test_metadata *_metadata)
{
	map_p = mmap(FI_FRESH, FI_PAGES * sr_page_size(), PROT_READ,
		     MAP_SHARED | MAP_FIXED_NOREPLACE, map_fd, 0);
	ASSERT_TRUE(map_p == FI_FRESH);
	/*
	 * pages mode: its PTEs gone, so the next touch faults. (huge mode's
	 * VM_PFNMAP refuses MADV_DONTNEED; its mmap() maps nothing.)
	 */
	if (!sr_pfnmap(_metadata))
		ASSERT_EQ(0, madvise(map_p, FI_PAGES * sr_page_size(), MADV_DONTNEED));
}

static int touch_run(void)
{
	return ((volatile char *)map_p)[0] == 't' ? 0 : -EIO;
}

static void touch_undo(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, munmap(map_p, FI_PAGES * sr_page_size()));
}

static void touch_failed(struct __test_metadata *_metadata, int err)
{
	ASSERT_EQ(0, err) {
		TH_LOG("the touch read a wrong byte (%s)", sr_errname(err));
	}
}

/*
 * The .fault path: a failed allocation there (the page tables of a fresh
 * region, in fault mode, and in huge mode, whose 64 KiB buffer is mapped
 * with PTEs) makes the fault VM_FAULT_OOM, and the kernel
 * retries a user fault that ran out of memory ("Retrying PF" in its log):
 * the touch reads the byte, no SIGBUS. After MADV_DONTNEED (pages mode)
 * the page tables stay, and the touch allocates nothing.
 */
TEST_F(sr, every_allocation_failure_in_a_fault_is_retried)
{
	static const struct fi_step step = {
		"first touch", touch_prepare, touch_run, touch_undo, touch_failed,
	};
	int sites;

	FI_SKIP_UNLESS_AVAILABLE();
	if (!strcmp(sr_map_mode(_metadata), "remap"))
		SKIP(return, "remap mode has no .fault: every PTE is made at mmap() time");
	fi_begin(_metadata);
	fi_map_fd_open(_metadata);
	kmsg_fd = sr_kmsg_open(_metadata);
	ASSERT_EQ(0, fail_each_site(_metadata, &step, 1, &sites));
	if (strcmp(sr_map_mode(_metadata), "pages")) {
		ASSERT_TRUE(sites > 0);
		ASSERT_TRUE(kmsg_count(kmsg_fd, "Retrying PF") > 0);
	}
	fi_end(_metadata);
}

static int export_fd, export_fds;
static long long export_refcnt;

static int export_run(void)
{
	export_fd = sr_export(map_fd, 0, FI_SIZE, O_RDWR | O_CLOEXEC);
	return export_fd < 0 ? -errno : 0;
}

/* The dma-buf maps the buffer; closed, it lets go of the module. */
static void export_undo(struct __test_metadata *_metadata)
{
	char *p = sr_mmap(_metadata, export_fd, FI_SIZE, PROT_READ, 0);

	ASSERT_EQ('t', p[0]);
	ASSERT_EQ(0, munmap(p, FI_SIZE));
	ASSERT_EQ(0, close(export_fd));
	ASSERT_EQ(export_refcnt, sr_refcnt(_metadata));
}

/* A failed export installs no fd and holds no module reference. */
static void export_failed(struct __test_metadata *_metadata, int err)
{
	ASSERT_EQ(ENOMEM, err);
	ASSERT_EQ(export_fds, sr_fd_count(_metadata));
	ASSERT_EQ(export_refcnt, sr_refcnt(_metadata));
}

/*
 * SIMPLE_REMAP_IOC_EXPORT: the driver's record of the window, then
 * dma_buf_export()'s dma-buf, its file and inode, and the fd table.
 */
TEST_F(sr, every_allocation_failure_in_an_export_fails_cleanly)
{
	static const struct fi_step step = {
		"export", NULL, export_run, export_undo, export_failed,
	};
	int sites;

	FI_SKIP_UNLESS_AVAILABLE();
	fi_begin(_metadata);
	fi_map_fd_open(_metadata);
	export_fds = sr_fd_count(_metadata);
	export_refcnt = sr_refcnt(_metadata);
	ASSERT_TRUE(fail_each_site(_metadata, &step, 1, &sites) > 0);
	ASSERT_EQ(export_fds, sr_fd_count(_metadata));
	fi_end(_metadata);
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
