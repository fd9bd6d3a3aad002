/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixtures for the guest tests: load and unload the module, open the
 * device, read its sysfs files. A test program starts with the module
 * unloaded, loads it with $SR_PARAMS (e.g. "map_mode=pages"), and leaves it
 * unloaded. Only the guest, as root, runs these.
 */
#ifndef SR_TEST_H
#define SR_TEST_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "simple_remap.h"
#include "tap.h"

#define SR_DEV		SIMPLE_REMAP_DEFAULT_PATH
#define SR_SYSFS	"/sys/class/misc/simple_remap/"
#define SR_PARAM	"/sys/module/simple_remap/parameters/"

static inline const char *sr_default_params(void)
{
	return getenv("SR_PARAMS") ?: "";
}

/* finit_module() with @params; 0 or -errno. */
static inline int sr_load(const char *params)
{
	const char *ko = getenv("SR_KO") ?: "/opt/sr/simple_remap.ko";
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;
	char all[512];

	if (fd < 0)
		return -errno;
	snprintf(all, sizeof(all), "%s %s", sr_default_params(), params ?: "");
	ret = syscall(SYS_finit_module, fd, all, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static inline int sr_unload(void)
{
	return syscall(SYS_delete_module, "simple_remap", O_NONBLOCK) ? -errno : 0;
}

static inline int sr_loaded(void)
{
	return access("/sys/module/simple_remap", F_OK) == 0;
}

/* Load the module afresh (zeroed buffer) with @params on top of the defaults. */
static inline void sr_reload(const char *params)
{
	int ret;

	if (sr_loaded())
		ASSERT_EQ(0, sr_unload());
	ret = sr_load(params);
	if (ret)
		TAP_FAIL("loading with '%s %s': %s", sr_default_params(),
			 params ?: "", strerror(-ret));
}

static inline int sr_open(int flags)
{
	int fd = open(SR_DEV, flags | O_CLOEXEC);

	if (fd < 0)
		TAP_FAIL("open %s: %s", SR_DEV, strerror(errno));
	return fd;
}

static inline struct simple_remap_info sr_info(int fd)
{
	struct simple_remap_info info;

	memset(&info, 0xa5, sizeof(info));
	if (ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info))
		TAP_FAIL("GET_INFO: %s", strerror(errno));
	return info;
}

static inline uint64_t sr_size(void)
{
	int fd = sr_open(O_RDONLY);
	uint64_t size = sr_info(fd).size;

	close(fd);
	return size;
}

/* A decimal number from a sysfs file under @dir. */
static inline long long sr_sysfs(const char *dir, const char *name)
{
	char path[256], buf[64] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		TAP_FAIL("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		TAP_FAIL("read %s", path);
	return strtoll(buf, NULL, 10);
}

/* "remap", "pages" or "fault": how the loaded module maps. */
static inline const char *sr_map_mode(void)
{
	static char mode[16];
	int fd = open(SR_PARAM "map_mode", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, mode, sizeof(mode) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		TAP_FAIL("cannot read %smap_mode", SR_PARAM);
	mode[strcspn(mode, "\n")] = 0;
	return mode;
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
			 (unsigned long long)off, strerror(errno));
	return p;
}

/* Run @fn in a child process; its exit status (0: passed). */
static inline int sr_in_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Between tests: the module loaded with the defaults, whatever a test did. */
static inline void sr_fixture(void)
{
	if (!sr_loaded() && sr_load(NULL))
		printf("# could not reload the module\n");
}

/* main() of a test program: the module in, the tests, the module out. */
static inline int sr_main(void)
{
	char variant[128] = "";
	int ret, failed;

	if (sr_loaded())
		sr_unload();
	ret = sr_load(NULL);
	if (ret) {
		printf("TAP version 13\n1..1\nnot ok 1 - module_loads # %s\n", strerror(-ret));
		return 1;
	}
	if (*sr_default_params())
		snprintf(variant, sizeof(variant), " [%s]", sr_default_params());
	failed = tap_main(sr_fixture, variant);
	ret = sr_unload();
	if (ret)
		printf("# module did not unload after the tests: %s\n", strerror(-ret));
	return failed || ret;
}

#endif /* SR_TEST_H */
