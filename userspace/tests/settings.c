// SPDX-License-Identifier: GPL-2.0
/*
 * The module under the settings an admin may choose: huge tmpfs pages,
 * memory cgroups, a buffer close to the machine's memory; and what the
 * device shows to those who may not open it.
 */
#include <sys/mount.h>

#include "sr_test.h"

#define SHMEM_THP	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define TAINTED		"/proc/sys/kernel/tainted"
#define CGROOT		"/sys/fs/cgroup/"
#define CGLOADER	CGROOT "sr_loader"
#define SZ_2M		(2UL << 20)

/* The whole of a small file, or -errno. */
static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	int err = errno;

	if (fd >= 0)
		close(fd);
	if (n < 0)
		return -err;
	buf[n] = 0;
	return 0;
}

/* A number in a /proc or sysfs file, or in its "name value" line. */
static long long read_number(struct __test_metadata *_metadata, const char *path, const char *name)
{
	char buf[4096], *p = buf;

	ASSERT_EQ(0, read_file(path, buf, sizeof(buf)));
	if (name) {
		p = strstr(buf, name);
		ASSERT_TRUE(p != NULL);
		p += strlen(name);
	}
	return strtoll(p, NULL, 10);
}

/* "always within_size advise [never] deny force": the bracketed word. */
static bool shmem_thp_setting(struct __test_metadata *_metadata, char *out, size_t len)
{
	char buf[256], *open_b, *close_b;

	if (read_file(SHMEM_THP, buf, sizeof(buf)))
		return false;
	open_b = strchr(buf, '[');
	close_b = open_b ? strchr(open_b, ']') : NULL;
	ASSERT_TRUE(close_b != NULL);
	snprintf(out, len, "%.*s", (int)(close_b - open_b - 1), open_b + 1);
	return true;
}

/* Touch every page of @p with its index, check each page reads it back. */
static void touch_and_check(struct __test_metadata *_metadata, int fd, volatile char *p, size_t len)
{
	long ps = sr_page_size();
	size_t i;
	char c;

	for (i = 0; i < len; i += ps)
		p[i] = (char)(i / ps + 1);
	for (i = 0; i < len; i += ps * 97) {
		ASSERT_EQ(1, pread(fd, &c, 1, i));
		ASSERT_EQ((char)(i / ps + 1), c);
	}
}

/*
 * Map the whole buffer at a 2 MiB-aligned address, touch every page; drop
 * the page table entries and touch again (the fault path in every struct
 * page mode); not one page may be mapped by a PMD.
 */
static int map_touch_at_2m(struct __test_metadata *_metadata, void *arg)
{
	size_t len = sr_size(_metadata);
	int fd = sr_open(_metadata, O_RDWR);
	char *area, *p;

	(void)arg;
	area = mmap(NULL, len + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(area != MAP_FAILED);
	p = (char *)(((uintptr_t)area + SZ_2M - 1) & ~(SZ_2M - 1));
	ASSERT_TRUE(mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == p);
	touch_and_check(_metadata, fd, p, len);
	ASSERT_EQ(0, sr_meminfo_kib(_metadata, "ShmemPmdMapped: %lld kB"));
	/* (A VM_PFNMAP mapping refuses MADV_DONTNEED.) */
	if (!sr_pfnmap(_metadata)) {
		ASSERT_EQ(0, madvise(p, len, MADV_DONTNEED));
		touch_and_check(_metadata, fd, p, len);
		ASSERT_EQ(0, sr_meminfo_kib(_metadata, "ShmemPmdMapped: %lld kB"));
	}
	ASSERT_EQ(0, munmap(p, len));
	return 0;
}

/*
 * With tmpfs set to @setting, an 8 MiB buffer is loaded, mapped and
 * touched by a child, and unloaded; the setting is restored whatever
 * happened. Nothing may be left: Shmem back to its level, no PMD still
 * mapped, no new taint (Bad page, Bad rss-counter set B).
 */
static void shmem_thp_round(struct __test_metadata *_metadata, const char *setting)
{
	long long shmem, taint, huge;
	bool pfnmap = sr_pfnmap(_metadata);
	char old[32];
	int ret;

	if (!shmem_thp_setting(_metadata, old, sizeof(old)))
		SKIP(return, "no %s: this kernel has no transparent huge pages", SHMEM_THP);
	ASSERT_EQ(0, sr_unload());
	shmem = sr_meminfo_kib(_metadata, "Shmem: %lld kB");
	taint = read_number(_metadata, TAINTED, NULL);
	ASSERT_EQ(0, sr_write_file(SHMEM_THP, setting));
	/* 2 MiB free runs for tmpfs's huge folios (no compaction: best effort). */
	sr_write_file("/proc/sys/vm/compact_memory", "1");
	ret = sr_load("size=8M");
	huge = sr_meminfo_kib(_metadata, "ShmemHugePages: %lld kB");
	if (!ret)
		ret = sr_in_child(_metadata, map_touch_at_2m, NULL);
	if (sr_loaded())
		EXPECT_EQ(0, sr_unload());
	ASSERT_EQ(0, sr_write_file(SHMEM_THP, old));
	printf("# shmem_enabled=%s: ShmemHugePages %lld kB while loaded\n", setting, huge);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, sr_meminfo_kib(_metadata, "ShmemPmdMapped: %lld kB"));
	EXPECT_TRUE(sr_meminfo_kib(_metadata, "Shmem: %lld kB") < shmem + 512);
	ASSERT_EQ(taint, read_number(_metadata, TAINTED, NULL));
	/* The struct page modes' buffer is tmpfs: huge, when tmpfs can. */
	if (!strcmp(setting, "always") && !pfnmap && huge < 8192)
		SKIP(return, "tmpfs found no free 2 MiB runs (ShmemHugePages %lld kB): no huge folio was mapped",
			 huge);
}

TEST_F(sr, huge_tmpfs_pages_are_mapped_by_pte_only)
{
	shmem_thp_round(_metadata, "always");
}

TEST_F(sr, small_tmpfs_pages_map_and_unload_cleanly)
{
	shmem_thp_round(_metadata, "never");
}

/* Allocate and touch @arg MiB over and over until killed. */
static int hog(void *arg)
{
	size_t len = (size_t)(uintptr_t)arg << 20;
	char *p;

	for (;;) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			memset(p, 1, len);
			munmap(p, len);
		}
	}
	return 0;
}

/* Start hog() with a quarter of the RAM; its pid. */
static pid_t start_hog(struct __test_metadata *_metadata)
{
	long long mib = sr_meminfo_kib(_metadata, "MemTotal: %lld kB") / 1024 / 4;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(hog((void *)(uintptr_t)mib));
	ASSERT_TRUE(pid > 0);
	usleep(200 * 1000);
	return pid;
}

static void stop_hog(struct __test_metadata *_metadata, pid_t pid)
{
	int status;

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* Killed by us, not by the OOM killer before that. */
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* The OOM killer's report, in the kernel log since sr_kmsg_open(). */
static bool oom_killed(int kmsg)
{
	return sr_kmsg_has(kmsg, "Killed process");
}

/* A buffer over half of the RAM is refused up front, with a reason. */
TEST_F(sr, buffer_of_ninety_percent_of_ram_fails_enomem)
{
	long long total = sr_meminfo_kib(_metadata, "MemTotal: %lld kB");
	int kmsg = sr_kmsg_open(_metadata), oom = sr_kmsg_open(_metadata);
	char params[64];
	pid_t hog_pid;

	ASSERT_EQ(0, sr_unload());
	hog_pid = start_hog(_metadata);
	snprintf(params, sizeof(params), "size=%lldK", total * 9 / 10);
	ASSERT_EQ(-ENOMEM, sr_load(params));
	stop_hog(_metadata, hog_pid);
	ASSERT_TRUE(!sr_loaded());
	ASSERT_TRUE(sr_kmsg_has(kmsg, "more than half of this machine's RAM"));
	ASSERT_TRUE(!oom_killed(oom));
}

/* Up to the limit it loads, maps and fills while others need memory too. */
TEST_F(sr, buffer_of_forty_percent_of_ram_maps_without_oom)
{
	long long total = sr_meminfo_kib(_metadata, "MemTotal: %lld kB");
	int kmsg = sr_kmsg_open(_metadata), fd, ret;
	char params[64], *p;
	size_t len;
	pid_t hog_pid;

	ASSERT_EQ(0, sr_unload());
	hog_pid = start_hog(_metadata);
	snprintf(params, sizeof(params), "size=%lldK", total * 4 / 10);
	ret = sr_load(params);
	if (ret)
		kill(hog_pid, SIGKILL);
	ASSERT_EQ(0, ret);
	fd = sr_open(_metadata, O_RDWR);
	len = sr_info(_metadata, fd).size;
	p = sr_mmap(_metadata, fd, len, PROT_READ | PROT_WRITE, 0);
	touch_and_check(_metadata, fd, p, len);
	stop_hog(_metadata, hog_pid);
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_TRUE(!oom_killed(kmsg));
}

/*
 * Load the module from inside a memory cgroup, then remove the cgroup:
 * the buffer is not charged there, and nothing keeps it alive, dying.
 */
static int load_in_loader_cgroup(struct __test_metadata *_metadata, void *arg)
{
	char pid[16];

	(void)arg;
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, sr_write_file(CGLOADER "/cgroup.procs", pid));
	ASSERT_EQ(0, sr_load("size=32M"));
	return 0;
}

TEST_F(sr, buffer_is_not_charged_to_the_cgroup_that_loads_it)
{
	long long dying, charged = -1;
	char controllers[256];
	int i, ret;

	if (access(CGROOT "cgroup.controllers", F_OK))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	if (read_file(CGROOT "cgroup.controllers", controllers, sizeof(controllers)) ||
	    !strstr(controllers, "memory"))
		SKIP(return, "no cgroup2 memory controller in this kernel");
	ASSERT_EQ(0, sr_write_file(CGROOT "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, sr_unload());
	rmdir(CGLOADER);
	dying = read_number(_metadata, CGROOT "cgroup.stat", "nr_dying_descendants ");
	ASSERT_EQ(0, mkdir(CGLOADER, 0755));
	ret = sr_in_child(_metadata, load_in_loader_cgroup, NULL);
	if (!ret)
		charged = read_number(_metadata, CGLOADER "/memory.current", NULL);
	ASSERT_EQ(0, rmdir(CGLOADER));
	ASSERT_EQ(0, ret);
	printf("# the loader's cgroup was charged %lld KiB for a 32 MiB buffer\n", charged / 1024);
	EXPECT_TRUE(charged < 4 << 20);
	/* Removed, the cgroup goes once RCU and its last references let it. */
	for (i = 0; i < 100 && read_number(_metadata, CGROOT "cgroup.stat", "nr_dying_descendants ") > dying; i++)
		usleep(100 * 1000);
	EXPECT_EQ(dying, read_number(_metadata, CGROOT "cgroup.stat", "nr_dying_descendants "));
	ASSERT_EQ(0, sr_unload());
}

/* Whether uid 65534 can open @path for reading: 0, or the errno. */
static int nobody_opens(struct __test_metadata *_metadata, const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(255);
		_exit(open(path, O_RDONLY) < 0 ? errno : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 255);
	return WEXITSTATUS(status);
}

/* Users who may not open the node do not watch its activity either. */
TEST_F(sr, counters_are_root_only)
{
	static const char *const names[] = { "mappings", "mmap_calls", "bytes_read",
					     "bytes_written", "nr_chunks" };
	char path[128];
	size_t i;

	ASSERT_EQ(EACCES, nobody_opens(_metadata, SR_DEV));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), SR_SYSFS "%s", names[i]);
		EXPECT_EQ(EACCES, nobody_opens(_metadata, path));
		sr_counter(_metadata, names[i]);
	}
	/* The node's own attributes stay world-readable, as for any device. */
	ASSERT_EQ(0, nobody_opens(_metadata, SR_SYSFS "dev"));
}

/* Writing through a mapping is not writing to the node: as write(). */
TEST_F(sr, writes_through_the_mapping_leave_the_node_mtime)
{
	int fd = sr_open(_metadata, O_RDWR);
	size_t len = sr_info(_metadata, fd).size;
	struct stat before, after;
	char *p;

	ASSERT_EQ(0, stat(SR_DEV, &before));
	usleep(50 * 1000);
	p = sr_mmap(_metadata, fd, len, PROT_READ | PROT_WRITE, 0);
	touch_and_check(_metadata, fd, p, len);
	ASSERT_EQ(1, pwrite(fd, "w", 1, 0));
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_EQ(0, stat(SR_DEV, &after));
	ASSERT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	ASSERT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
