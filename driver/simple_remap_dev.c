// SPDX-License-Identifier: GPL-2.0
/*
 * simple_remap: share a zeroed kernel buffer with user space through mmap().
 *
 * The buffer is allocated at module load and freed at unload. Every open
 * file sees the same bytes:
 *
 *	int fd = open("/dev/simple_remap", O_RDWR);
 *	struct simple_remap_info info;
 *	char *p;
 *
 *	ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info);
 *	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
 *
 * read(), write(), pread(), pwrite() and lseek() reach the same bytes.
 * A mapping is shared, never executable, and never reaches past the end of
 * the buffer; offsets are in bytes, page aligned for mmap().
 *
 * How the buffer is mapped is the map_mode parameter's choice: "remap"
 * (remap_pfn_range(), every PTE at mmap() time, VM_PFNMAP), "pages"
 * (vm_insert_pages(), every PTE at mmap() time, pages that get_user_pages()
 * can pin: O_DIRECT, vmsplice(), process_vm_readv()) or "fault" (each page
 * mapped on first touch, pinnable too) or "huge" (on first touch, one PMD
 * per 2 MiB physically contiguous run where the kernel allows, PTEs
 * elsewhere, VM_PFNMAP). In remap and huge mode the buffer is
 * physically contiguous chunks, so that a mapping takes few
 * remap_pfn_range() calls; the two struct page modes take the pages of a
 * kernel-internal tmpfs file instead, because the kernel keys a futex
 * shared between processes by the page's file and offset: processes can
 * wait on a futex in the buffer there. Everywhere, the notification counter
 * below is a cross-process wake-up too.
 *
 * Processes wake each other without spinning through a notification
 * counter: SIMPLE_REMAP_IOC_NOTIFY (or a write()) advances it, and poll()
 * reports POLLIN to every open file that has not acknowledged
 * (SIMPLE_REMAP_IOC_ACK) the latest value:
 *
 *	struct pollfd pfd = { .fd = fd, .events = POLLIN };
 *	__u64 seq;
 *
 *	poll(&pfd, 1, timeout_ms);
 *	ioctl(fd, SIMPLE_REMAP_IOC_ACK, &seq);
 *
 * This file is the device: its parameters, file operations, ioctls, sysfs
 * counters, misc device, load and unload. The buffer is
 * simple_remap_buffer.c's, the mapping modes simple_remap_mmap.c's.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include <linux/simple_remap.h>

#include "simple_remap_compat.h"
#include "simple_remap_internal.h"

static const char *const simple_remap_map_modes[] = {
	[SIMPLE_REMAP_MAP_REMAP] = "remap",
	[SIMPLE_REMAP_MAP_PAGES] = "pages",
	[SIMPLE_REMAP_MAP_FAULT] = "fault",
	[SIMPLE_REMAP_MAP_HUGE] = "huge",
};

static unsigned int simple_remap_map_mode = SIMPLE_REMAP_MAP_REMAP;

static int simple_remap_map_mode_set(const char *val,
				     const struct kernel_param *kp)
{
	int mode = sysfs_match_string(simple_remap_map_modes, val);

	if (mode < 0)
		return mode;
	*(unsigned int *)kp->arg = mode;
	return 0;
}

/* Like THP's "enabled": every mode, the active one bracketed. */
static int simple_remap_map_mode_get(char *buf, const struct kernel_param *kp)
{
	unsigned int mode = *(unsigned int *)kp->arg, i;
	int len = 0;

	for (i = 0; i < ARRAY_SIZE(simple_remap_map_modes); i++)
		len += scnprintf(buf + len, PAGE_SIZE - len,
				 i == mode ? "%s[%s]" : "%s%s", i ? " " : "",
				 simple_remap_map_modes[i]);
	return len + scnprintf(buf + len, PAGE_SIZE - len, "\n");
}

static const struct kernel_param_ops simple_remap_map_mode_ops = {
	.set = simple_remap_map_mode_set,
	.get = simple_remap_map_mode_get,
};

module_param_cb(map_mode, &simple_remap_map_mode_ops, &simple_remap_map_mode,
		0444);
__MODULE_PARM_TYPE(map_mode, "remap|pages|fault|huge");
MODULE_PARM_DESC(map_mode,
		 "How mmap() maps: remap (default), pages, fault or huge");

static unsigned long simple_remap_size = SZ_4M;

/*
 * size=65536, size=64K or size=4M, as the kernel's own mem= takes sizes;
 * unlike memparse(), a value too large for 64 bits is refused, not wrapped.
 */
static int simple_remap_size_set(const char *val, const struct kernel_param *kp)
{
	static const char suffixes[] = "KMGTPE";
	unsigned long long size;
	unsigned int shift = 0;
	size_t len = strlen(val);
	const char *suffix;
	char buf[32];
	int ret;

	ret = kstrtoull(val, 0, &size);
	if (ret == -EINVAL && len && len < sizeof(buf)) {
		/* Not a plain number: a number and one suffix, then. */
		strscpy(buf, val, sizeof(buf));
		if (buf[len - 1] == '\n')
			buf[--len] = '\0';
		suffix = len ? strchr(suffixes, toupper(buf[len - 1])) : NULL;
		if (suffix && *suffix) {
			shift = 10 * (suffix - suffixes + 1);
			buf[len - 1] = '\0';
			ret = kstrtoull(buf, 0, &size);
		}
	}
	if (!ret && size > ULONG_MAX >> shift)
		ret = -ERANGE;
	if (ret == -ERANGE)
		pr_err("size=%s: too large: more than 2^64 bytes\n", val);
	else if (ret)
		pr_err("size=%s: not a size (a number, then K, M, G, T, P or E)\n",
		       val);
	if (ret)
		return -EINVAL;
	*(unsigned long *)kp->arg = size << shift;
	return 0;
}

static const struct kernel_param_ops simple_remap_size_ops = {
	.set = simple_remap_size_set,
	.get = param_get_ulong,
};

module_param_cb(size, &simple_remap_size_ops, &simple_remap_size, 0444);
__MODULE_PARM_TYPE(size, "ulong");
MODULE_PARM_DESC(size, "Buffer bytes, K/M/G suffixes taken, page rounded (4M)");

/*
 * The counter has just moved to @seq by @f's hand: wake every waiter. The
 * notifier acknowledges its own notification, unless others' are still
 * unacknowledged: those stay pending for it, so nothing is lost (it may
 * wake once for its own).
 */
static void simple_remap_notified(struct simple_remap_file *f, s64 seq)
{
	atomic64_cmpxchg(&f->acked, seq - 1, seq);
	wake_up_interruptible_poll(&f->sr->wq, EPOLLIN | EPOLLRDNORM);
}

static int simple_remap_open(struct inode *inode, struct file *file)
{
	struct simple_remap_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	/* misc_open() left the miscdevice here. */
	f->sr = container_of(file->private_data, struct simple_remap_dev, misc);
	atomic64_set(&f->acked, atomic64_read(&f->sr->seq));
	file->private_data = f;
	return 0;
}

static ssize_t simple_remap_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct simple_remap_dev *sr = simple_remap_from_file(file);
	ssize_t ret;

	ret = simple_read_from_buffer(buf, count, ppos, sr->vaddr, sr->size);
	if (ret > 0)
		atomic_long_add(ret, &sr->bytes_read);
	return ret;
}

static ssize_t simple_remap_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct simple_remap_dev *sr = simple_remap_from_file(file);
	ssize_t ret;

	if (*ppos < 0)
		return -EINVAL;
	/* A full buffer is a full device; a write straddling the end is short. */
	if (count && *ppos >= sr->size)
		return -ENOSPC;

	ret = simple_write_to_buffer(sr->vaddr, sr->size, ppos, buf, count);
	if (ret > 0) {
		atomic_long_add(ret, &sr->bytes_written);
		simple_remap_notified(file->private_data,
				      atomic64_inc_return(&sr->seq));
	}
	return ret;
}

static loff_t simple_remap_llseek(struct file *file, loff_t offset, int whence)
{
	return fixed_size_llseek(file, offset, whence,
				 simple_remap_from_file(file)->size);
}

static __poll_t simple_remap_poll(struct file *file, poll_table *wait)
{
	struct simple_remap_file *f = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	/* Queued before the check: a notify in between still wakes us. */
	poll_wait(file, &f->sr->wq, wait);
	if (atomic64_read(&f->sr->seq) != atomic64_read(&f->acked))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static long simple_remap_ioctl_get_info(struct simple_remap_dev *sr,
					void __user *argp)
{
	struct simple_remap_info info = {
		.size = sr->size,
		.mappings = atomic_long_read(&sr->mappings),
		.page_size = PAGE_SIZE,
		.abi_version = SIMPLE_REMAP_ABI_VERSION,
		.nr_chunks = sr->nr_chunks,
		.seq = atomic64_read(&sr->seq),
		.map_granule = simple_remap_map_granule(sr),
	};

	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * The new value is stored for the caller before the counter moves, and the
 * counter moves only if no one else moved it meanwhile: a bad pointer
 * fails with nothing advanced and no one woken.
 */
static long simple_remap_ioctl_notify(struct simple_remap_file *f,
				      u64 __user *argp)
{
	struct simple_remap_dev *sr = f->sr;
	s64 seq;

	do {
		seq = atomic64_read(&sr->seq);
		if (put_user(seq + 1, argp))
			return -EFAULT;
	} while (atomic64_cmpxchg(&sr->seq, seq, seq + 1) != seq);
	simple_remap_notified(f, seq + 1);
	return 0;
}

/*
 * Acknowledged only once the caller has the value: a bad pointer changes
 * nothing. The acknowledged value only ever grows, whichever of the
 * threads sharing the file gets here last.
 */
static long simple_remap_ioctl_ack(struct simple_remap_file *f,
				   u64 __user *argp)
{
	s64 seq = atomic64_read(&f->sr->seq), acked;

	if (put_user(seq, argp))
		return -EFAULT;
	acked = atomic64_read(&f->acked);
	while (acked < seq && !atomic64_try_cmpxchg(&f->acked, &acked, seq))
		;
	return 0;
}

static long simple_remap_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct simple_remap_dev *sr = simple_remap_from_file(file);
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case SIMPLE_REMAP_IOC_GET_INFO:
		return simple_remap_ioctl_get_info(sr, argp);
	case SIMPLE_REMAP_IOC_NOTIFY:
		/* Waking everyone is a write, as write() would notify. */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return simple_remap_ioctl_notify(file->private_data, argp);
	case SIMPLE_REMAP_IOC_ACK:
		return simple_remap_ioctl_ack(file->private_data, argp);
	/* A window as a dma-buf: simple_remap_dmabuf.c. */
	case SIMPLE_REMAP_IOC_EXPORT:
		return simple_remap_ioctl_export(file, argp);
	default:
		return -ENOTTY;
	}
}

static int simple_remap_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/* Every map_mode's file operations but the mapping's: the same for all. */
#define SIMPLE_REMAP_COMMON_FOPS                                  \
	.owner = THIS_MODULE, .open = simple_remap_open,          \
	.read = simple_remap_read, .write = simple_remap_write,   \
	.llseek = simple_remap_llseek, .poll = simple_remap_poll, \
	.unlocked_ioctl = simple_remap_ioctl,                     \
	.compat_ioctl = compat_ptr_ioctl, .release = simple_remap_release

static const struct file_operations simple_remap_fops = {
	SIMPLE_REMAP_COMMON_FOPS,
	.mmap = simple_remap_mmap,
};

/*
 * map_mode=huge: the same, but a mapping's user address is 2 MiB-aligned
 * (relative to its offset) where the length allows, so that PMDs can map
 * it; and on kernels with mmap_prepare the VMA is set up there, as the
 * mode maps nothing at mmap() time. A file_operations with both .mmap and
 * .mmap_prepare fails every mmap() (ENODEV): this one has one of them.
 */
static const struct file_operations simple_remap_huge_fops = {
	SIMPLE_REMAP_COMMON_FOPS,
	SIMPLE_REMAP_HUGE_MMAP_HOOK,
	.get_unmapped_area = thp_get_unmapped_area,
};

static struct simple_remap_dev simple_remap = {
	.misc = {
		.minor = MISC_DYNAMIC_MINOR,
		.name = KBUILD_MODNAME,
		.fops = &simple_remap_fops,
	},
	.wq = __WAIT_QUEUE_HEAD_INITIALIZER(simple_remap.wq),
};

/*
 * Operator counters: /sys/class/misc/simple_remap/<name>, readable by root
 * only. They show what the device's users do (how much, how often); a
 * user who may not open the node has no business watching that. Who may
 * open it reads its mappings and counter through GET_INFO.
 */
/* A root-only attribute named @_name showing @_val, a number. */
#define SIMPLE_REMAP_ATTR(_name, _val)                                        \
	static ssize_t simple_remap_##_name##_show(                           \
		struct device *dev, struct device_attribute *attr, char *buf) \
	{                                                                     \
		return sysfs_emit(buf, "%ld\n", (long)(_val));                \
	}                                                                     \
	static struct device_attribute simple_remap_attr_##_name =            \
		__ATTR(_name, 0400, simple_remap_##_name##_show, NULL)

SIMPLE_REMAP_ATTR(mappings, atomic_long_read(&simple_remap.mappings));
SIMPLE_REMAP_ATTR(mmap_calls, atomic_long_read(&simple_remap.mmap_calls));
SIMPLE_REMAP_ATTR(bytes_read, atomic_long_read(&simple_remap.bytes_read));
SIMPLE_REMAP_ATTR(bytes_written, atomic_long_read(&simple_remap.bytes_written));
SIMPLE_REMAP_ATTR(nr_chunks, simple_remap.nr_chunks);
SIMPLE_REMAP_ATTR(map_granule, simple_remap_map_granule(&simple_remap));

static struct attribute *simple_remap_attrs[] = {
	&simple_remap_attr_mappings.attr,
	&simple_remap_attr_mmap_calls.attr,
	&simple_remap_attr_bytes_read.attr,
	&simple_remap_attr_bytes_written.attr,
	&simple_remap_attr_nr_chunks.attr,
	&simple_remap_attr_map_granule.attr,
	NULL,
};
ATTRIBUTE_GROUPS(simple_remap);

/*
 * Validate the size parameter, then round it up to whole pages. The buffer
 * is pinned and unevictable for as long as the module is loaded: like a
 * tmpfs by default, it may take at most half of the machine's RAM, so that
 * the rest of the system keeps room to run.
 */
static int simple_remap_check_size(struct simple_remap_dev *sr)
{
	/* Rounded up without the overflow DIV_ROUND_UP() has near ULONG_MAX. */
	unsigned long nr_pages = (simple_remap_size >> PAGE_SHIFT) +
				 !!offset_in_page(simple_remap_size);
	unsigned long limit = totalram_pages() / 2;

	if (!simple_remap_size) {
		pr_err("size=0: the buffer needs at least one byte\n");
		return -EINVAL;
	}
	/* vmap() counts pages in an unsigned int. */
	if (nr_pages > UINT_MAX) {
		pr_err("size=%lu: more than 2^32 pages, which vmap() cannot map\n",
		       simple_remap_size);
		return -EINVAL;
	}
	/* Checked before anything is allocated, so nothing warns. */
	if (nr_pages > limit) {
		pr_err("size=%lu: more than half of this machine's RAM (%lu bytes may be pinned)\n",
		       simple_remap_size, limit << PAGE_SHIFT);
		return -ENOMEM;
	}
	sr->nr_pages = nr_pages;
	sr->size = nr_pages << PAGE_SHIFT;
	sr->whole.sr = sr;
	sr->whole.nr_pages = nr_pages;
	simple_remap_size = sr->size;
	return 0;
}

static int __init simple_remap_init(void)
{
	struct simple_remap_dev *sr = &simple_remap;
	int ret;

	ret = simple_remap_check_size(sr);
	if (ret)
		return ret;
	sr->map_mode = simple_remap_map_mode;

	ret = simple_remap_buffer_alloc(sr);
	if (ret) {
		pr_err("size=%zu: cannot allocate the buffer: %pe\n", sr->size,
		       ERR_PTR(ret));
		return ret;
	}

	sr->misc.groups = simple_remap_groups;
	if (sr->map_mode == SIMPLE_REMAP_MAP_HUGE)
		sr->misc.fops = &simple_remap_huge_fops;
	ret = misc_register(&sr->misc);
	if (ret)
		goto out_free_buffer;

	pr_info("%zu-byte buffer in %u chunk(s), map_mode=%s\n", sr->size,
		sr->nr_chunks, simple_remap_map_modes[sr->map_mode]);
	return 0;

out_free_buffer:
	simple_remap_buffer_free(sr);
	return ret;
}

static void __exit simple_remap_exit(void)
{
	struct simple_remap_dev *sr = &simple_remap;

	misc_deregister(&sr->misc);
	simple_remap_buffer_free(sr);
}

module_init(simple_remap_init);
module_exit(simple_remap_exit);

MODULE_DESCRIPTION("A zeroed kernel buffer shared with user space by mmap()");
MODULE_AUTHOR("The simple_remap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SIMPLE_REMAP_VERSION);
