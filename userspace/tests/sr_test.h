/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest tests run under the kernel's own harness, kselftest_harness.h
 * (from linux-source-6.1, see scripts/kselftest.sh). This adds what it
 * lacks: the sr fixture, whose variants are the driver's map_modes; an
 * errno assertion; killing what a test left running; loading the module and
 * reading its sysfs files; loading the kernel's own modules a test
 * consumes; exporting a window as a dma-buf; counting descriptors and
 * module references. Tests need nothing but the UAPI header, so that a
 * library bug cannot hide a driver bug.
 *
 *	TEST_F(sr, read_at_end_returns_zero)
 *	{
 *		int fd = sr_open(_metadata, O_RDWR);
 *
 *		ASSERT_EQ(0, pread(fd, buf, 1, sr_size(_metadata)));
 *	}
 *
 * Each TEST_F(sr, ...) runs once per map_mode, in its own process and
 * process group, with the module loaded in that mode with its default
 * size; sr_load() and sr_reload() load in the same mode. After the last
 * test of a program, sr_end.module_unloads_after_tests unloads the module.
 * "-v MODE" (repeatable) runs only those variants.
 */
#ifndef SR_TEST_H
#define SR_TEST_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#include <linux/simple_remap.h>

#include "kselftest_harness.h"

/* The harness's 30 s is too short for some tests in an emulated guest. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 120

#define SR_NAME "simple_remap"
#define SR_KO_DEFAULT "/opt/sr/simple_remap.ko"
#define SR_DEV "/dev/" SR_NAME
#define SR_SYSFS "/sys/class/misc/" SR_NAME "/"
#define SR_PARAM "/sys/module/" SR_NAME "/parameters/"
#define SR_MODULE "/sys/module/" SR_NAME "/"
/* debugfs's list of dma-bufs (exporter, name, attached devices). */
#define SR_BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"
/* The kernel's modules the tests consume, from scripts/kernel.sh. */
#define SR_KMODS "/opt/sr/modules/"

static inline const char *sr_errname(int err)
{
	return err ? strerrorname_np(err) ?: "?" : "0";
}

/* @call must fail, returning -1 (or MAP_FAILED), with errno @err. */
#define __SR_ERRNO(err, call, text, _assert)					\
	do {								\
		long long __r;						\
		int __e;						\
		errno = 0;						\
		__r = (long long)(call);				\
		__e = errno;						\
		if (_assert)						\
			__INC_STEP(_metadata);				\
		if (__r != -1 || __e != (err)) {			\
			TH_LOG("%s: expected -1 (errno %s), got %lld (errno %s)", \
			       text, sr_errname(err), __r, sr_errname(__e)); \
			_metadata->passed = 0;				\
			_metadata->trigger = 1;				\
		}							\
	} while (0);							\
	OPTIONAL_HANDLER(_assert)

/* Stringified here, before the arguments' macros expand. */
#define ASSERT_ERRNO(err, call) __SR_ERRNO(err, call, #call, 1)
#define EXPECT_ERRNO(err, call) __SR_ERRNO(err, call, #call, 0)

/* What the tests of one program share, in the runner and every test. */
struct sr_shared {
	long long default_size;	/* the buffer of a load with no size= */
	pid_t last_test;	/* the last test's process group */
};

static struct sr_shared *sr_shared;
/* The variant's map_mode, for every load in this test. */
static const char *sr_mode;
/* Every variant of the sr fixture, space-separated, before -v. */
static char sr_variants[128];

static void __attribute__((constructor)) sr_shared_init(void)
{
	sr_shared = mmap(NULL, sizeof(*sr_shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sr_shared == MAP_FAILED) {
		perror("mmap");
		exit(KSFT_FAIL);
	}
}

static inline const char *sr_ko(void)
{
	return getenv("SR_KO") ?: SR_KO_DEFAULT;
}

/* devtmpfs may make the node a moment after the load: wait up to 2 s. */
static inline void sr_wait_dev(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 200 && access(SR_DEV, F_OK); i++)
		nanosleep(&tick, NULL);
}

/* finit_module() in the variant's map_mode with @params; 0 or -errno. */
static inline int sr_load(const char *params)
{
	int fd = open(sr_ko(), O_RDONLY | O_CLOEXEC), ret;
	char all[512];

	if (fd < 0)
		return -errno;
	snprintf(all, sizeof(all), "%s%s %s", sr_mode ? "map_mode=" : "",
		 sr_mode ?: "", params ?: "");
	ret = syscall(SYS_finit_module, fd, all, 0) ? -errno : 0;
	close(fd);
	if (!ret)
		sr_wait_dev();
	return ret;
}

/* delete_module(); 0 or -errno (-EWOULDBLOCK while in use). */
static inline int sr_unload(void)
{
	return syscall(SYS_delete_module, SR_NAME, O_NONBLOCK) ? -errno : 0;
}

static inline bool sr_loaded(void)
{
	return access("/sys/module/" SR_NAME, F_OK) == 0;
}

/* A sysfs file under @dir holding one decimal number and a newline; -errno. */
static inline int sr_sysfs_try(const char *dir, const char *name, long long *val)
{
	char path[256], buf[64] = "", *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	errno = 0;
	*val = strtoll(buf, &end, 10);
	if (end == buf || errno || strcmp(end, "\n")) {
		ksft_print_msg("%s: '%s' is not a decimal number and a newline\n", path, buf);
		return -EINVAL;
	}
	return 0;
}

/*
 * A module of the kernel's own that a test consumes (vivid, vgem,
 * virtio_blk: kernel.sh's CONSUMERS), with what it depends on:
 * finit_module() of each file SR_KMODS @name.load lists, dependencies first
 * (an empty list: built in); one already loaded is fine. 0 when it is in
 * the kernel (built in, as in the debug kernels, or loaded); 1 when this
 * kernel does not ship it (kernel.sh found none in its packages); else the
 * failing load's -errno, said.
 */
static inline int sr_kmod_load(const char *name)
{
	char path[256], file[128];
	int ret = 0, fd;
	FILE *list;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (!access(path, F_OK))
		return 0;
	snprintf(path, sizeof(path), SR_KMODS "%s.load", name);
	list = fopen(path, "re");
	if (!list)
		return errno == ENOENT ? 1 : -errno;
	while (!ret && fscanf(list, "%127s", file) == 1) {
		snprintf(path, sizeof(path), SR_KMODS "%s", file);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)) {
			ret = -errno;
			ksft_print_msg("loading %s for %s: %s\n", path, name, sr_errname(errno));
		}
		if (fd >= 0)
			close(fd);
	}
	fclose(list);
	return ret;
}

/* Load the module afresh (zeroed buffer) with @params, in the variant's mode. */
static inline void sr_reload(struct __test_metadata *_metadata, const char *params)
{
	int ret;

	if (sr_loaded())
		ASSERT_EQ(0, sr_unload());
	ret = sr_load(params);
	ASSERT_EQ(0, ret) {
		TH_LOG("loading %s with 'map_mode=%s %s': %s", sr_ko(), sr_mode ?: "",
		       params ?: "", sr_errname(-ret));
	}
}

static inline int sr_open(struct __test_metadata *_metadata, int flags)
{
	int fd = open(SR_DEV, flags | O_CLOEXEC);

	ASSERT_LE(0, fd) {
		TH_LOG("open %s: %s", SR_DEV, sr_errname(errno));
	}
	return fd;
}

/* GET_INFO; poisoned first, so that a field the driver skips shows. */
static inline struct simple_remap_info sr_info(struct __test_metadata *_metadata, int fd)
{
	struct simple_remap_info info;

	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info)) {
		TH_LOG("GET_INFO: %s", sr_errname(errno));
	}
	return info;
}

static inline uint64_t sr_size(struct __test_metadata *_metadata)
{
	int fd = sr_open(_metadata, O_RDONLY);
	uint64_t size = sr_info(_metadata, fd).size;

	close(fd);
	return size;
}

static inline long long sr_sysfs(struct __test_metadata *_metadata, const char *dir,
				 const char *name)
{
	long long val = 0;
	int ret = sr_sysfs_try(dir, name, &val);

	ASSERT_EQ(0, ret) {
		TH_LOG("%s%s: %s", dir, name, sr_errname(-ret));
	}
	return val;
}

/* An operator counter: /sys/class/misc/simple_remap/@name. */
static inline long long sr_counter(struct __test_metadata *_metadata, const char *name)
{
	return sr_sysfs(_metadata, SR_SYSFS, name);
}

/* References on the module: each open file and each dma-buf holds one. */
static inline long long sr_refcnt(struct __test_metadata *_metadata)
{
	return sr_sysfs(_metadata, SR_MODULE, "refcnt");
}

/* Open descriptors of this process. */
static inline int sr_fd_count(struct __test_metadata *_metadata)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT_NE(NULL, d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Write @val to a /proc, sysfs or debugfs file in one write(); 0 or -errno. */
static inline int sr_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -errno;
}

/* A field of a /proc file in KiB: the first line that @format ("VmPTE: %lld kB") reads. */
static inline long long sr_proc_kib(struct __test_metadata *_metadata, const char *path,
				    const char *format)
{
	char line[128];
	long long kib = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, format, &kib) == 1)
			break;
	if (f)
		fclose(f);
	ASSERT_LE(0, kib) {
		TH_LOG("no '%s' in %s", format, path);
	}
	return kib;
}

/* A /proc/meminfo field in KiB ("MemFree: %lld kB"), after dropping caches. */
static inline long long sr_meminfo_kib(struct __test_metadata *_metadata, const char *format)
{
	ASSERT_EQ(0, sr_write_file("/proc/sys/vm/drop_caches", "3\n"));
	return sr_proc_kib(_metadata, "/proc/meminfo", format);
}

/* The kernel log from now on: sr_kmsg_has() reads what came since. */
static inline int sr_kmsg_open(struct __test_metadata *_metadata)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	ASSERT_TRUE(fd >= 0 && lseek(fd, 0, SEEK_END) >= 0) {
		TH_LOG("/dev/kmsg: %s", sr_errname(errno));
	}
	return fd;
}

/* Whether a kernel log record since sr_kmsg_open() contains @text. */
static inline bool sr_kmsg_has(int fd, const char *text)
{
	char rec[1024];
	bool found = false;
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		rec[n > 0 ? n : 0] = 0;
		if (!found && strstr(rec, text)) {
			ksft_print_msg("kernel log: %s",
				       strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			found = true;
		}
	}
	return found;
}

/* The driver's map_mode parameter, e.g. "[remap] pages fault"; -errno. */
static inline int sr_map_mode_param(char *buf, size_t len)
{
	int fd = open(SR_PARAM "map_mode", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	if (n < 0)
		n = -errno;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return n;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* "remap", "pages" or "fault": how the loaded module maps (the bracketed one). */
static inline const char *sr_map_mode(struct __test_metadata *_metadata)
{
	static char mode[64];
	char *open;

	ASSERT_EQ(0, sr_map_mode_param(mode, sizeof(mode)));
	open = strchr(mode, '[');
	if (!open)
		return mode;
	open[strcspn(open, "]")] = 0;
	return open + 1;
}

/*
 * Whether get_user_pages() can pin what @map_mode maps. remap's
 * remap_pfn_range() and huge's special PMDs and PTEs make a VM_PFNMAP VMA,
 * which GUP refuses with EFAULT (check_vma_flags()) whoever asks: O_DIRECT,
 * io_uring, V4L2 USERPTR, process_vm_readv(), vmsplice(), a shared futex.
 * The page modes insert tmpfs pages, which it pins like any page cache.
 */
static inline bool sr_mode_pinnable(const char *map_mode)
{
	return strcmp(map_mode, "remap") && strcmp(map_mode, "huge");
}

/* The loaded module's mapping has no struct page that GUP could pin. */
static inline int sr_pfnmap(struct __test_metadata *_metadata)
{
	return !sr_mode_pinnable(sr_map_mode(_metadata));
}

static inline long sr_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* The running kernel is older than @major.@minor (uname's release; unknown: no). */
static inline bool sr_kernel_before(int major, int minor)
{
	struct utsname u;
	int maj = 0, min = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &maj, &min) != 2)
		return false;
	return maj < major || (maj == major && min < minor);
}

static inline void *sr_mmap(struct __test_metadata *_metadata, int fd, size_t len, int prot,
			    uint64_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);

	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("mmap %zu bytes at %llu: %s", len, (unsigned long long)off,
		       sr_errname(errno));
	}
	return p;
}

/* SIMPLE_REMAP_IOC_EXPORT; the dma-buf's descriptor, or -1 and errno. */
static inline int sr_export(int fd, uint64_t offset, uint64_t length, uint32_t flags)
{
	struct simple_remap_export req = {
		.offset = offset, .length = length, .flags = flags, .fd = -1,
	};

	return ioctl(fd, SIMPLE_REMAP_IOC_EXPORT, &req) ? -1 : req.fd;
}

/* The export, which must work. */
static inline int sr_export_ok(struct __test_metadata *_metadata, int fd, uint64_t offset,
			       uint64_t length, uint32_t flags)
{
	int buf = sr_export(fd, offset, length, flags);

	ASSERT_LE(0, buf) {
		TH_LOG("export %#llx bytes at %#llx, flags %#x: %s", (unsigned long long)length,
		       (unsigned long long)offset, flags, sr_errname(errno));
	}
	return buf;
}

/* SR_BUFINFO readable: debugfs mounted, if the kernel has it. */
static inline void sr_mount_debugfs(void)
{
	if (access(SR_BUFINFO, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
}

/* Run @argv (its program from $PATH) in a child, which must exit 0. */
static inline void sr_run_ok(struct __test_metadata *_metadata, char *const argv[])
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("%s exited %d", argv[0], WEXITSTATUS(status));
	}
}

/*
 * Run @fn in a child process; its exit status (0: passed, and no
 * EXPECT_*() failed there), -1 if it died (an ASSERT_*() there aborts it).
 */
static inline int sr_in_child(struct __test_metadata *_metadata,
			      int (*fn)(struct __test_metadata *, void *), void *arg)
{
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		ret = fn(_metadata, arg);
		fflush(stdout);
		_exit(ret ?: !_metadata->passed);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		ksft_print_msg("child killed by SIG%s\n", sigabbrev_np(WTERMSIG(status)) ?: "?");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * In the test's process (the leader of the group the harness made for it):
 * move to the runner's group (sr_main() made one), kill whatever is left in
 * the test's, and reap until no child is left (orphans of the test's
 * children are the test's: it is their subreaper). Not in a child of the
 * test, which an ASSERT_*() also sends to teardown.
 */
static inline void sr_kill_strays(void)
{
	pid_t me = getpid();

	if (getpgrp() != me)
		return;
	if (setpgid(0, getppid())) {
		ksft_print_msg("cannot leave the test's process group: %s\n", sr_errname(errno));
		return;
	}
	kill(-me, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

FIXTURE(sr) {};

FIXTURE_VARIANT(sr) {
	const char *map_mode;
};

/* Each mode the driver lists: map_modes_of_the_driver_are_the_variants checks. */
FIXTURE_VARIANT_ADD(sr, remap) { .map_mode = "remap" };
FIXTURE_VARIANT_ADD(sr, pages) { .map_mode = "pages" };
FIXTURE_VARIANT_ADD(sr, fault) { .map_mode = "fault" };
FIXTURE_VARIANT_ADD(sr, huge) { .map_mode = "huge" };

/* The module loaded in the variant's mode with the default size. */
FIXTURE_SETUP(sr)
{
	long long size;

	/* A test that crashed had no teardown: what it left goes now. */
	if (sr_shared->last_test)
		kill(-sr_shared->last_test, SIGKILL);
	sr_shared->last_test = getpid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sr_mode = variant->map_mode;
	if (sr_shared->default_size && sr_loaded() && !strcmp(sr_map_mode(_metadata), sr_mode) &&
	    !sr_sysfs_try(SR_PARAM, "size", &size) && size == sr_shared->default_size)
		return;
	sr_reload(_metadata, NULL);
	sr_shared->default_size = sr_sysfs(_metadata, SR_PARAM, "size");
}

FIXTURE_TEARDOWN(sr)
{
	sr_kill_strays();
}

/* After every test of the program: nothing still holds the module. */
FIXTURE(sr_end) {};
FIXTURE_TEARDOWN(sr_end) {}

FIXTURE_SETUP(sr_end)
{
	if (sr_shared->last_test)
		kill(-sr_shared->last_test, SIGKILL);
	if (!sr_loaded())
		ASSERT_EQ(0, sr_load(NULL));
}

TEST_F(sr_end, module_unloads_after_tests)
{
	ASSERT_EQ(0, sr_unload());
	ASSERT_FALSE(sr_loaded());
}

/*
 * main() of a test program: "-v MODE" (repeatable, as newer harnesses
 * have it) keeps only those variants of the sr fixture; then the harness.
 */
static inline int sr_main(int argc, char **argv)
{
	struct __fixture_variant_metadata *v, *next, *head = NULL, *tail = NULL;
	const char *want[8];
	int opt, i, nr_want = 0;

	/* A test's process ends in _exit(): its "# ..." lines must not wait in a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* A group of its own, for each test to leave at teardown. */
	setpgid(0, 0);
	for (v = _sr_fixture_object.variant; v; v = v->next)
		snprintf(sr_variants + strlen(sr_variants), sizeof(sr_variants) - strlen(sr_variants),
			 "%s%s", *sr_variants ? " " : "", v->name);
	while ((opt = getopt(argc, argv, "v:")) != -1) {
		if (opt != 'v' || nr_want == (int)ARRAY_SIZE(want)) {
			fprintf(stderr, "usage: %s [-v MODE]... (MODE: %s)\n", argv[0], sr_variants);
			return KSFT_FAIL;
		}
		for (v = _sr_fixture_object.variant; v && strcmp(v->name, optarg); v = v->next)
			;
		if (!v) {
			fprintf(stderr, "%s: no variant '%s' (there are: %s)\n", argv[0], optarg,
				sr_variants);
			return KSFT_FAIL;
		}
		want[nr_want++] = optarg;
	}
	for (v = nr_want ? _sr_fixture_object.variant : NULL; v; v = next) {
		next = v->next;
		for (i = 0; i < nr_want && strcmp(want[i], v->name); i++)
			;
		if (i == nr_want)
			continue;
		v->next = NULL;
		if (tail)
			tail->next = v;
		else
			head = v;
		v->prev = tail;
		tail = v;
	}
	if (head) {
		head->prev = tail;
		_sr_fixture_object.variant = head;
	}
	return test_harness_run(argc, argv);
}

#endif /* SR_TEST_H */
