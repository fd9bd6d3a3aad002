// SPDX-License-Identifier: GPL-2.0
/* Notifications: poll() on the device, NOTIFY and ACK, and the ring example. */
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/epoll.h>

#include "simple_remap.h"
#include "sr_test.h"

static int readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n = poll(&pfd, 1, timeout_ms);

	return n < 0 ? -errno : n == 1 && (pfd.revents & POLLIN);
}

static uint64_t notify(struct __test_metadata *_metadata, int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &seq));
	return seq;
}

static uint64_t ack(struct __test_metadata *_metadata, int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq));
	return seq;
}

TEST_F(sr, new_file_is_not_readable)
{
	int fd1 = sr_open(_metadata, O_RDWR), fd2;

	notify(_metadata, fd1);
	fd2 = sr_open(_metadata, O_RDWR);
	/* Started acknowledged: only the next notification counts. */
	ASSERT_EQ(0, readable(fd2, 0));
	struct pollfd pfd = { .fd = fd2, .events = POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
}

TEST_F(sr, notify_wakes_other_files_not_the_notifier)
{
	int fd1 = sr_open(_metadata, O_RDWR), fd2 = sr_open(_metadata, O_RDONLY);

	notify(_metadata, fd1);
	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(0, readable(fd1, 0));
}

TEST_F(sr, notify_advances_counter_and_info_reports_it)
{
	int fd = sr_open(_metadata, O_RDWR);
	uint64_t a = notify(_metadata, fd), b = notify(_metadata, fd);

	ASSERT_EQ(a + 1, b);
	ASSERT_EQ(b, sr_info(_metadata, fd).seq);
}

TEST_F(sr, ack_clears_pending_and_returns_counter)
{
	int fd1 = sr_open(_metadata, O_RDWR), fd2 = sr_open(_metadata, O_RDWR);
	uint64_t seq = notify(_metadata, fd1);

	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(seq, ack(_metadata, fd2));
	ASSERT_EQ(0, readable(fd2, 0));
	/* GET_INFO only reports the counter; it does not acknowledge. */
	notify(_metadata, fd1);
	sr_info(_metadata, fd2);
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST_F(sr, write_notifies)
{
	int fd1 = sr_open(_metadata, O_RDWR), fd2 = sr_open(_metadata, O_RDONLY);

	ASSERT_EQ(1, pwrite(fd1, "x", 1, 0));
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST_F(sr, notify_before_wait_is_not_lost)
{
	struct simple_remap sr;
	int fd1 = sr_open(_metadata, O_RDWR);

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	notify(_metadata, fd1);
	ASSERT_EQ(0, simple_remap_wait(&sr, 10000));
}

TEST_F(sr, wait_times_out_without_notification)
{
	struct simple_remap sr;

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 100));
	ASSERT_EQ(0, simple_remap_ack(&sr, NULL));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 0));
}

TEST_F(sr, notify_needs_a_file_open_for_writing)
{
	int ro = sr_open(_metadata, O_RDONLY), other = sr_open(_metadata, O_RDONLY);
	__u64 seq = 0, before = sr_info(_metadata, ro).seq;

	ASSERT_ERRNO(EBADF, ioctl(ro, SIMPLE_REMAP_IOC_NOTIFY, &seq));
	ASSERT_EQ(before, sr_info(_metadata, ro).seq);
	ASSERT_EQ(0, readable(other, 0));
	/* Write-only is enough, as for write(). */
	notify(_metadata, sr_open(_metadata, O_WRONLY));
	ASSERT_EQ(1, readable(other, 0));
}

/* A page the kernel can read but not write: put_user() there fails. */
static __u64 *readonly_word(struct __test_metadata *_metadata)
{
	void *p = mmap(NULL, sr_page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

TEST_F(sr, notify_with_bad_pointer_changes_nothing)
{
	int fd = sr_open(_metadata, O_RDWR), other = sr_open(_metadata, O_RDONLY);
	__u64 before = sr_info(_metadata, fd).seq;

	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, readonly_word(_metadata)));
	ASSERT_EQ(before, sr_info(_metadata, fd).seq);
	ASSERT_EQ(0, readable(other, 0));
	ASSERT_EQ(before + 1, notify(_metadata, fd));
}

TEST_F(sr, ack_with_bad_pointer_changes_nothing)
{
	int fd = sr_open(_metadata, O_RDWR), other = sr_open(_metadata, O_RDWR);

	notify(_metadata, other);
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_ACK, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_ACK, readonly_word(_metadata)));
	ASSERT_EQ(1, readable(fd, 0));
	ack(_metadata, fd);
	ASSERT_EQ(0, readable(fd, 0));
}

static int shared_fd;
static volatile int stop_acking;

/* No ASSERT_*() in a thread: it returns the number of failed ACKs. */
static void *ack_loop(void *arg)
{
	__u64 seq;
	long failed = 0;

	(void)arg;
	while (!stop_acking)
		failed += ioctl(shared_fd, SIMPLE_REMAP_IOC_ACK, &seq) != 0;
	return (void *)failed;
}

/*
 * Threads sharing a file ACK at once while one of them notifies. Only it
 * notifies, so right after its own ACK the file must not be readable: if it
 * is, the other thread's older ACK landed after ours and moved the
 * acknowledged value back.
 */
TEST_F(sr, ack_never_moves_backwards_between_threads)
{
	int other = sr_open(_metadata, O_RDWR), i, backwards = 0;
	struct timespec start, now;
	void *failed;
	pthread_t t;

	shared_fd = sr_open(_metadata, O_RDWR);
	ASSERT_EQ(0, pthread_create(&t, NULL, ack_loop, NULL));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0;; i++) {
		notify(_metadata, other);
		ack(_metadata, shared_fd);
		backwards += readable(shared_fd, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 3)
			break;
	}
	stop_acking = 1;
	ASSERT_EQ(0, pthread_join(t, &failed));
	ASSERT_EQ(0, (long)failed);
	printf("# %d rounds, %d with the acknowledged value moved back\n", i + 1, backwards);
	ASSERT_EQ(0, backwards);
}

#define WAITERS 8

TEST_F(sr, many_waiters_all_woken)
{
	int fd = sr_open(_metadata, O_RDWR), ready[2], i, status;
	pid_t pids[WAITERS];
	char c;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < WAITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int mine = sr_open(_metadata, O_RDONLY);

			ASSERT_EQ(1, write(ready[1], "r", 1));
			_exit(readable(mine, 20000) == 1 ? 0 : 1);
		}
	}
	for (i = 0; i < WAITERS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	notify(_metadata, fd);
	for (i = 0; i < WAITERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

TEST_F(sr, waiter_killed_while_sleeping)
{
	int fd = sr_open(_metadata, O_RDWR), ready[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	if (pid == 0) {
		int mine = sr_open(_metadata, O_RDONLY);

		ASSERT_EQ(1, write(ready[1], "r", 1));
		readable(mine, -1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	usleep(100 * 1000);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The dead waiter left the wait queue: notifying still works. */
	notify(_metadata, fd);
	notify(_metadata, fd);
}

TEST_F(sr, epoll_edge_triggered)
{
	int fd1 = sr_open(_metadata, O_RDWR), fd2 = sr_open(_metadata, O_RDONLY), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;

	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(_metadata, fd1);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	ASSERT_TRUE(out.events & EPOLLIN);
	/* Edge-triggered: no new edge until the next notification. */
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(_metadata, fd1);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
}

static int polled_fd;

static void *poll_thread(void *arg)
{
	struct pollfd pfd = { .fd = polled_fd, .events = POLLIN };

	(void)arg;
	if (poll(&pfd, 1, 20000) != 1)
		return (void *)0L;
	return (void *)(long)pfd.revents;
}

TEST_F(sr, close_while_another_thread_polls)
{
	int fd1 = sr_open(_metadata, O_RDWR);
	pthread_t t;
	void *ret;

	polled_fd = sr_open(_metadata, O_RDONLY);
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, NULL));
	usleep(100 * 1000);
	ASSERT_EQ(0, close(polled_fd));
	/* The wake-up reaches the sleeper, which finds its fd gone. */
	notify(_metadata, fd1);
	ASSERT_EQ(0, pthread_join(t, &ret));
	ASSERT_EQ(POLLNVAL, (long)ret);
}

static pid_t spawn(char *const argv[])
{
	pid_t pid;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, NULL))
		return -1;
	return pid;
}

static void ring_messages(struct __test_metadata *_metadata, const char *count)
{
	char *consumer[] = { "ring_consumer", "-n", (char *)count, NULL };
	char *producer[] = { "ring_producer", "-n", (char *)count, NULL };
	pid_t c = spawn(consumer), p = spawn(producer);
	int status;

	ASSERT_TRUE(c > 0 && p > 0);
	ASSERT_EQ(p, waitpid(p, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(c, waitpid(c, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(sr, ring_passes_a_million_messages_in_order)
{
	ring_messages(_metadata, "1000000");
}

int main(int argc, char **argv)
{
	return sr_main(argc, argv);
}
