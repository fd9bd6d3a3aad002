/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures for the guest tests: load and unload the module, open the
 * device, read its sysfs files. A test program starts with the module
 * unloaded, loads it with $SR_PARAMS (e.g. "map_mode=pages") from $SR_KO,
 * runs its tests, and leaves it unloaded; the last TAP line says whether it
 * could. Only the guest, as root, runs these; they need nothing but the
 * UAPI header, so that a library bug cannot hide a driver bug.
 */
#ifndef SR_TAP_H
#define SR_TAP_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include <linux/simple_remap.h>

#include "tap.h"

#define SR_NAME		"simple_remap"
#define SR_KO_DEFAULT	"/opt/sr/simple_remap.ko"
#define SR_DEV		"/dev/" SR_NAME
#define SR_SYSFS	"/sys/class/misc/" SR_NAME "/"
#define SR_PARAM	"/sys/module/" SR_NAME "/parameters/"

static inline const char *sr_default_params(void)
{
	return getenv("SR_PARAMS") ?: "";
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

/* finit_module() with $SR_PARAMS then @params; 0 or -errno. */
static inline int sr_load(const char *params)
{
	int fd = open(sr_ko(), O_RDONLY | O_CLOEXEC), ret;
	char all[512];

	if (fd < 0)
		return -errno;
	snprintf(all, sizeof(all), "%s %s", sr_default_params(), params ?: "");
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

/* Load the module afresh (zeroed buffer) with @params on top of the defaults. */
static inline void sr_reload(const char *params)
{
	int ret;

	if (sr_loaded())
		ASSERT_EQ(0, sr_unload());
	ret = sr_load(params);
	if (ret)
		TAP_FAIL("loading %s with '%s %s': %s", sr_ko(),
			 sr_default_params(), params ?: "", tap_errname(-ret));
}

static inline int sr_open(int flags)
{
	int fd = open(SR_DEV, flags | O_CLOEXEC);

	if (fd < 0)
		TAP_FAIL("open %s: %s", SR_DEV, tap_errname(errno));
	return fd;
}

/* GET_INFO; poisoned first, so that a field the driver skips shows. */
static inline struct simple_remap_info sr_info(int fd)
{
	struct simple_remap_info info;

	memset(&info, 0xa5, sizeof(info));
	if (ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info))
		TAP_FAIL("GET_INFO: %s", tap_errname(errno));
	return info;
}

static inline uint64_t sr_size(void)
{
	int fd = sr_open(O_RDONLY);
	uint64_t size = sr_info(fd).size;

	close(fd);
	return size;
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
		printf("# %s: '%s' is not a decimal number and a newline\n", path, buf);
		return -EINVAL;
	}
	return 0;
}

static inline long long sr_sysfs(const char *dir, const char *name)
{
	long long val = 0;
	int ret = sr_sysfs_try(dir, name, &val);

	if (ret)
		TAP_FAIL("%s%s: %s", dir, name, tap_errname(-ret));
	return val;
}

/* An operator counter: /sys/class/misc/simple_remap/@name. */
static inline long long sr_counter(const char *name)
{
	return sr_sysfs(SR_SYSFS, name);
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

/* A /proc/meminfo field in KiB ("MemFree: %lld kB"), after dropping caches. */
static inline long long sr_meminfo_kib(const char *format)
{
	char line[128];
	long long kib = -1;
	int dc = open("/proc/sys/vm/drop_caches", O_WRONLY);
	FILE *f;

	if (dc >= 0) {
		ASSERT_EQ(2, write(dc, "3\n", 2));
		close(dc);
	}
	f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, format, &kib) == 1)
			break;
	if (f)
		fclose(f);
	ASSERT_TRUE(kib >= 0);
	return kib;
}

/* The kernel log from now on: sr_kmsg_has() reads what came since. */
static inline int sr_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || lseek(fd, 0, SEEK_END) < 0)
		TAP_FAIL("/dev/kmsg: %s", tap_errname(errno));
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
			printf("# kernel log: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			found = true;
		}
	}
	return found;
}

/* "remap", "pages" or "fault": how the loaded module maps (the one in []). */
static inline const char *sr_map_mode(void)
{
	static char modes[64];
	int fd = open(SR_PARAM "map_mode", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, modes, sizeof(modes) - 1);
	char *active = n > 0 ? strchr(modes, '[') : NULL;
	char *end = active ? strchr(active, ']') : NULL;

	if (fd >= 0)
		close(fd);
	if (!end)
		TAP_FAIL("cannot read the active mode in %smap_mode", SR_PARAM);
	*end = 0;
	return active + 1;
}

/* remap_pfn_range() mappings have no struct page that GUP could pin. */
static inline int sr_pfnmap(void)
{
	return !strcmp(sr_map_mode(), "remap");
}

static inline long sr_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static inline void *sr_mmap(int fd, size_t len, int prot, uint64_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);

	if (p == MAP_FAILED)
		TAP_FAIL("mmap %zu bytes at %llu: %s", len,
			 (unsigned long long)off, tap_errname(errno));
	return p;
}

/*
 * Run @fn in a child process; its exit status (0: passed, and no
 * EXPECT_*() failed there), -1 if it died.
 */
static inline int sr_in_child(int (*fn)(void *), void *arg)
{
	int status, ret;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		ret = fn(arg);
		fflush(stdout);
		_exit(ret ?: tap_failed);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		printf("# child killed by SIG%s\n", sigabbrev_np(WTERMSIG(status)) ?: "?");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The buffer size of a load with the defaults, for sr_fixture(). */
static long long sr_default_size;

/* Between tests: the module loaded with the defaults, whatever a test did. */
static inline void sr_fixture(void)
{
	long long size;

	if (!sr_sysfs_try(SR_PARAM, "size", &size) && size == sr_default_size)
		return;
	if (sr_loaded() && sr_unload())
		printf("# could not unload the module left by the last test\n");
	if (!sr_loaded() && sr_load(NULL))
		printf("# could not reload the module\n");
}

/* The last test of every program: nothing still holds the module. */
static inline void module_unloads_after_tests(void)
{
	ASSERT_EQ(0, sr_unload());
	ASSERT_TRUE(!sr_loaded());
}

/* main() of a test program: the module in, the tests, the module out. */
static inline int sr_main(void)
{
	char variant[128] = "";
	int ret;

	if (sr_loaded()) {
		printf("# %s was loaded before the tests: unloading it\n", SR_NAME);
		sr_unload();
	}
	ret = sr_load(NULL);
	if (ret) {
		printf("TAP version 13\n1..1\n# %s: %s\n", sr_ko(), strerror(-ret));
		printf("not ok 1 - module_loads # %s\n", tap_errname(-ret));
		return 1;
	}
	if (sr_sysfs_try(SR_PARAM, "size", &sr_default_size))
		printf("# cannot read %ssize\n", SR_PARAM);
	if (*sr_default_params())
		snprintf(variant, sizeof(variant), " [%s]", sr_default_params());
	tap_register("module_unloads_after_tests", module_unloads_after_tests);
	return tap_main(sr_fixture, variant);
}

#endif /* SR_TAP_H */
