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

static uint64_t notify(int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, &seq));
	return seq;
}

static uint64_t ack(int fd)
{
	__u64 seq = 0;

	ASSERT_EQ(0, ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq));
	return seq;
}

TEST(new_file_is_not_readable)
{
	int fd1 = sr_open(O_RDWR), fd2;

	notify(fd1);
	fd2 = sr_open(O_RDWR);
	/* Started acknowledged: only the next notification counts. */
	ASSERT_EQ(0, readable(fd2, 0));
	struct pollfd pfd = { .fd = fd2, .events = POLLOUT };
	ASSERT_EQ(1, poll(&pfd, 1, 0));
}

TEST(notify_wakes_other_files_not_the_notifier)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY);

	notify(fd1);
	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(0, readable(fd1, 0));
}

TEST(notify_advances_counter_and_info_reports_it)
{
	int fd = sr_open(O_RDWR);
	uint64_t a = notify(fd), b = notify(fd);

	ASSERT_EQ(a + 1, b);
	ASSERT_EQ(b, sr_info(fd).seq);
}

TEST(ack_clears_pending_and_returns_counter)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDWR);
	uint64_t seq = notify(fd1);

	ASSERT_EQ(1, readable(fd2, 0));
	ASSERT_EQ(seq, ack(fd2));
	ASSERT_EQ(0, readable(fd2, 0));
	/* GET_INFO only reports the counter; it does not acknowledge. */
	notify(fd1);
	sr_info(fd2);
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST(write_notifies)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY);

	ASSERT_EQ(1, pwrite(fd1, "x", 1, 0));
	ASSERT_EQ(1, readable(fd2, 0));
}

TEST(notify_before_wait_is_not_lost)
{
	struct simple_remap sr;
	int fd1 = sr_open(O_RDWR);

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	notify(fd1);
	ASSERT_EQ(0, simple_remap_wait(&sr, 10000));
}

TEST(wait_times_out_without_notification)
{
	struct simple_remap sr;

	ASSERT_EQ(0, simple_remap_open(&sr, NULL, O_RDONLY));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 100));
	ASSERT_EQ(0, simple_remap_ack(&sr, NULL));
	ASSERT_EQ(-ETIMEDOUT, simple_remap_wait(&sr, 0));
}

TEST(notify_needs_a_file_open_for_writing)
{
	int ro = sr_open(O_RDONLY), other = sr_open(O_RDONLY);
	__u64 seq = 0, before = sr_info(ro).seq;

	ASSERT_ERRNO(EBADF, ioctl(ro, SIMPLE_REMAP_IOC_NOTIFY, &seq));
	ASSERT_EQ(before, sr_info(ro).seq);
	ASSERT_EQ(0, readable(other, 0));
	/* Write-only is enough, as for write(). */
	notify(sr_open(O_WRONLY));
	ASSERT_EQ(1, readable(other, 0));
}

/* A page the kernel can read but not write: put_user() there fails. */
static __u64 *readonly_word(void)
{
	void *p = mmap(NULL, sr_page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_TRUE(p != MAP_FAILED);
	return p;
}

TEST(notify_with_bad_pointer_changes_nothing)
{
	int fd = sr_open(O_RDWR), other = sr_open(O_RDONLY);
	__u64 before = sr_info(fd).seq;

	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_NOTIFY, readonly_word()));
	ASSERT_EQ(before, sr_info(fd).seq);
	ASSERT_EQ(0, readable(other, 0));
	ASSERT_EQ(before + 1, notify(fd));
}

TEST(ack_with_bad_pointer_changes_nothing)
{
	int fd = sr_open(O_RDWR), other = sr_open(O_RDWR);

	notify(other);
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_ACK, NULL));
	ASSERT_ERRNO(EFAULT, ioctl(fd, SIMPLE_REMAP_IOC_ACK, readonly_word()));
	ASSERT_EQ(1, readable(fd, 0));
	ack(fd);
	ASSERT_EQ(0, readable(fd, 0));
}

static int shared_fd;
static volatile int stop_acking;

static void *ack_loop(void *arg)
{
	(void)arg;
	while (!stop_acking)
		ack(shared_fd);
	return NULL;
}

/*
 * Threads sharing a file ACK at once while one of them notifies. Only it
 * notifies, so right after its own ACK the file must not be readable: if it
 * is, the other thread's older ACK landed after ours and moved the
 * acknowledged value back.
 */
TEST(ack_never_moves_backwards_between_threads)
{
	int other = sr_open(O_RDWR), i, backwards = 0;
	struct timespec start, now;
	pthread_t t;

	shared_fd = sr_open(O_RDWR);
	ASSERT_EQ(0, pthread_create(&t, NULL, ack_loop, NULL));
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0;; i++) {
		notify(other);
		ack(shared_fd);
		backwards += readable(shared_fd, 0);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= 3)
			break;
	}
	stop_acking = 1;
	ASSERT_EQ(0, pthread_join(t, NULL));
	printf("# %d rounds, %d with the acknowledged value moved back\n", i + 1, backwards);
	ASSERT_EQ(0, backwards);
}

#define WAITERS 8

TEST(many_waiters_all_woken)
{
	int fd = sr_open(O_RDWR), ready[2], i, status;
	pid_t pids[WAITERS];
	char c;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < WAITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int mine = sr_open(O_RDONLY);

			ASSERT_EQ(1, write(ready[1], "r", 1));
			_exit(readable(mine, 20000) == 1 ? 0 : 1);
		}
	}
	for (i = 0; i < WAITERS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	notify(fd);
	for (i = 0; i < WAITERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

TEST(waiter_killed_while_sleeping)
{
	int fd = sr_open(O_RDWR), ready[2], status;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	if (pid == 0) {
		int mine = sr_open(O_RDONLY);

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
	notify(fd);
	notify(fd);
}

TEST(epoll_edge_triggered)
{
	int fd1 = sr_open(O_RDWR), fd2 = sr_open(O_RDONLY), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, out;

	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(fd1);
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	ASSERT_TRUE(out.events & EPOLLIN);
	/* Edge-triggered: no new edge until the next notification. */
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	notify(fd1);
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

TEST(close_while_another_thread_polls)
{
	int fd1 = sr_open(O_RDWR);
	pthread_t t;
	void *ret;

	polled_fd = sr_open(O_RDONLY);
	ASSERT_EQ(0, pthread_create(&t, NULL, poll_thread, NULL));
	usleep(100 * 1000);
	ASSERT_EQ(0, close(polled_fd));
	/* The wake-up reaches the sleeper, which finds its fd gone. */
	notify(fd1);
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

static void ring_messages(const char *count)
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

TEST(ring_passes_a_million_messages_in_order)
{
	ring_messages("1000000");
}

int main(void)
{
	return sr_main();
}
