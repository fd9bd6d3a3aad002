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
 * mapped on first touch, pinnable too). In remap mode the buffer is
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
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include <linux/simple_remap.h>

#include "simple_remap_compat.h"

/**
 * struct simple_remap_chunk - a physically contiguous run of the buffer
 * @pfn:	first page frame
 * @nr_pages:	pages in the run
 */
struct simple_remap_chunk {
	unsigned long pfn;
	unsigned long nr_pages;
};

/**
 * struct simple_remap_dev - the device and its buffer
 * @misc:	the /dev/simple_remap node; open() points file->private_data here
 * @pages:	every page of the buffer, in order, each holding one
 *		reference of ours: a page allocation of its own (split_page())
 *		or a page cache page of @shmem
 * @nr_pages:	length of @pages
 * @size:	buffer size in bytes, @nr_pages pages
 * @shmem:	map_mode pages and fault: the unlinked tmpfs file whose page
 *		cache @pages are; NULL in remap mode
 * @chunks:	map_mode remap: @pages as physically contiguous runs, for
 *		remap_pfn_range(); NULL in the other modes
 * @nr_chunks:	how many physically contiguous runs @pages make
 * @vaddr:	a contiguous kernel mapping of @pages, for read() and write()
 * @seq:	the notification counter
 * @wq:		poll()ers waiting for @seq to move
 * @mappings:	live VMAs of the buffer, in every process
 * @mmap_calls:	successful mmap() calls since load
 * @bytes_read:	bytes read() since load
 * @bytes_written: bytes written since load
 *
 * Everything but the counters is set at init and only read until exit, so
 * it needs no lock; the counters are atomics, and @wq has its own lock.
 * The buffer's bytes are shared
 * memory: ordering accesses to them is the business of the processes that
 * share it, as with any shared mapping.
 */
struct simple_remap_dev {
	struct miscdevice misc;
	struct page **pages;
	unsigned long nr_pages;
	size_t size;
	struct file *shmem;
	struct simple_remap_chunk *chunks;
	unsigned int nr_chunks;
	void *vaddr;
	atomic64_t seq;
	wait_queue_head_t wq;
	atomic_long_t mappings;
	atomic_long_t mmap_calls;
	atomic_long_t bytes_read;
	atomic_long_t bytes_written;
};

/**
 * struct simple_remap_file - one open file of the device
 * @sr:		the device
 * @acked:	the notification counter as this file last acknowledged it;
 *		an atomic, as threads may share the file
 */
struct simple_remap_file {
	struct simple_remap_dev *sr;
	atomic64_t acked;
};

enum simple_remap_map_mode {
	SIMPLE_REMAP_MAP_REMAP,
	SIMPLE_REMAP_MAP_PAGES,
	SIMPLE_REMAP_MAP_FAULT,
};

static const char *const simple_remap_map_modes[] = {
	[SIMPLE_REMAP_MAP_REMAP] = "remap",
	[SIMPLE_REMAP_MAP_PAGES] = "pages",
	[SIMPLE_REMAP_MAP_FAULT] = "fault",
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
__MODULE_PARM_TYPE(map_mode, "remap|pages|fault");
MODULE_PARM_DESC(map_mode, "How mmap() maps: remap (default), pages or fault");

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

static struct simple_remap_dev *simple_remap_from_file(struct file *file)
{
	return ((struct simple_remap_file *)file->private_data)->sr;
}

/* Drop the first @nr_pages of @pages, the table, and @shmem if any. */
static void simple_remap_free_pages(struct simple_remap_dev *sr,
				    unsigned long nr_pages)
{
	while (nr_pages)
		put_page(sr->pages[--nr_pages]);
	kvfree(sr->pages);
	sr->pages = NULL;
	if (sr->shmem)
		fput(sr->shmem);
	sr->shmem = NULL;
}

/*
 * map_mode=remap: zeroed pages in the largest physically contiguous chunks
 * the allocator gives cheaply, falling back to smaller orders (and staying
 * there) as it runs short, so a large buffer still loads on a fragmented
 * machine. Neither a failed high-order try nor running out warns: running
 * out is reported once, by the caller.
 */
static int simple_remap_alloc_chunks(struct simple_remap_dev *sr)
{
	unsigned int order = SIMPLE_REMAP_MAX_ORDER;
	unsigned long i = 0, j;
	struct page *page;
	gfp_t gfp;

	while (i < sr->nr_pages) {
		order = min_t(unsigned int, order, ilog2(sr->nr_pages - i));
		/*
		 * One cheap try at a high order; single pages try hard,
		 * but fail rather than call the OOM killer.
		 */
		gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
		      (order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL);
		page = alloc_pages(gfp, order);
		if (!page) {
			if (!order) {
				simple_remap_free_pages(sr, i);
				return -ENOMEM;
			}
			order--;
			continue;
		}
		split_page(page, order);
		for (j = 0; j < 1UL << order; j++)
			sr->pages[i++] = page + j;
	}
	return 0;
}

/*
 * map_mode=pages and fault: the pages of an unlinked, kernel-internal tmpfs
 * file, which tmpfs zeroes. As page cache they have the file mapping and
 * index a shared futex is keyed by. They stay where they are: the mapping
 * is unevictable, and our reference keeps reclaim and migration away.
 */
static int simple_remap_alloc_shmem(struct simple_remap_dev *sr)
{
	gfp_t gfp = GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct address_space *mapping;
	struct page *page;
	unsigned long i;
	struct file *shmem;

	/*
	 * tmpfs says ENOSPC when it cannot allocate an inode or account a
	 * page; on this internal mount, without limits, that is memory
	 * running out: ENOMEM, as everywhere else at load.
	 */
	shmem = shmem_file_setup(KBUILD_MODNAME, sr->size,
				 SIMPLE_REMAP_SHMEM_NORESERVE);
	if (IS_ERR(shmem)) {
		simple_remap_free_pages(sr, 0);
		return -ENOMEM;
	}
	sr->shmem = shmem;
	mapping = shmem->f_mapping;
	mapping_set_unevictable(mapping);

	for (i = 0; i < sr->nr_pages; i++) {
		page = shmem_read_mapping_page_gfp(mapping, i, gfp);
		if (IS_ERR(page)) {
			simple_remap_free_pages(sr, i);
			return -ENOMEM;
		}
		sr->pages[i] = page;
	}
	return 0;
}

/*
 * tmpfs charges its pages to the memory cgroup of the task that allocates
 * them. Allocated by insmod, the buffer would be charged to whoever ran it
 * (a boot service, a container, a login session) and would keep that
 * cgroup alive, dying, until rmmod. A kernel worker has no mm: its pages
 * are charged to the root cgroup. The buffer is the system's, as in remap
 * mode, whose pages no cgroup is charged for.
 */
struct simple_remap_alloc_work {
	struct work_struct work;
	struct simple_remap_dev *sr;
	unsigned int fail_nth;
	int ret;
};

/*
 * Fault injection's /proc/thread-self/fail-nth fails the Nth allocation
 * site one task passes; the tests walk N over every site of a load. The
 * worker allocates on the loader's behalf, so the loader's remaining count
 * travels to the worker and back: the Nth site counts across both.
 */
static unsigned int simple_remap_fail_nth_take(void)
{
#ifdef CONFIG_FAULT_INJECTION
	unsigned int nth = current->fail_nth;

	current->fail_nth = 0;
	return nth;
#else
	return 0;
#endif
}

static void simple_remap_fail_nth_give(unsigned int nth)
{
#ifdef CONFIG_FAULT_INJECTION
	current->fail_nth = nth;
#endif
}

static void simple_remap_alloc_shmem_work(struct work_struct *work)
{
	struct simple_remap_alloc_work *w =
		container_of(work, struct simple_remap_alloc_work, work);

	simple_remap_fail_nth_give(w->fail_nth);
	w->ret = simple_remap_alloc_shmem(w->sr);
	w->fail_nth = simple_remap_fail_nth_take();
}

static int simple_remap_alloc_shmem_uncharged(struct simple_remap_dev *sr)
{
	struct simple_remap_alloc_work w = { .sr = sr };

	INIT_WORK_ONSTACK(&w.work, simple_remap_alloc_shmem_work);
	w.fail_nth = simple_remap_fail_nth_take();
	queue_work(system_unbound_wq, &w.work);
	flush_work(&w.work);
	simple_remap_fail_nth_give(w.fail_nth);
	destroy_work_on_stack(&w.work);
	return w.ret;
}

static int simple_remap_alloc_pages(struct simple_remap_dev *sr)
{
	sr->pages = kvmalloc_array(sr->nr_pages, sizeof(*sr->pages),
				   GFP_KERNEL | __GFP_NOWARN);
	if (!sr->pages)
		return -ENOMEM;

	if (simple_remap_map_mode == SIMPLE_REMAP_MAP_REMAP)
		return simple_remap_alloc_chunks(sr);
	return simple_remap_alloc_shmem_uncharged(sr);
}

/*
 * Neighbouring allocations may be physically adjacent: one chunk then.
 * Only remap mode maps by chunk; the others only count them.
 */
static int simple_remap_build_chunks(struct simple_remap_dev *sr)
{
	struct simple_remap_chunk *c;
	unsigned long i, pfn;

	sr->nr_chunks = 1;
	for (i = 1; i < sr->nr_pages; i++)
		if (page_to_pfn(sr->pages[i]) !=
		    page_to_pfn(sr->pages[i - 1]) + 1)
			sr->nr_chunks++;

	if (simple_remap_map_mode != SIMPLE_REMAP_MAP_REMAP)
		return 0;
	sr->chunks = kvcalloc(sr->nr_chunks, sizeof(*sr->chunks), GFP_KERNEL);
	if (!sr->chunks)
		return -ENOMEM;

	c = sr->chunks;
	c->pfn = page_to_pfn(sr->pages[0]);
	for (i = 0; i < sr->nr_pages; i++) {
		pfn = page_to_pfn(sr->pages[i]);
		if (pfn != c->pfn + c->nr_pages)
			(++c)->pfn = pfn;
		c->nr_pages++;
	}
	return 0;
}

static void simple_remap_vm_open(struct vm_area_struct *vma)
{
	atomic_long_inc(&simple_remap_from_file(vma->vm_file)->mappings);
}

static void simple_remap_vm_close(struct vm_area_struct *vma)
{
	atomic_long_dec(&simple_remap_from_file(vma->vm_file)->mappings);
}

/*
 * map_mode=pages and fault: a page table entry zapped or never made. The
 * PTE is inserted here, never by the core from vmf->page: when tmpfs hands
 * out huge folios (shmem_enabled=always), finish_fault() would map a whole
 * folio with one PMD that a VM_MIXEDMAP zap drops without its rmap,
 * reference or RSS count. One PTE a page is all this VMA ever has. It is
 * mapped as it stands (writable if the VMA is), so no write fault follows
 * and the node's mtime stays as write() leaves it: untouched.
 */
static vm_fault_t simple_remap_vm_fault(struct vm_fault *vmf)
{
	struct simple_remap_dev *sr = simple_remap_from_file(vmf->vma->vm_file);
	int ret;

	if (vmf->pgoff >= sr->nr_pages)
		return VM_FAULT_SIGBUS;
	ret = vm_insert_page(vmf->vma, vmf->address, sr->pages[vmf->pgoff]);
	/* -EBUSY: another thread's fault mapped it first. */
	if (ret && ret != -EBUSY)
		return vmf_error(ret);
	return VM_FAULT_NOPAGE;
}

/* VM_PFNMAP: a fault must never put a struct page PTE in there. */
static const struct vm_operations_struct simple_remap_vm_pfn_ops = {
	.open = simple_remap_vm_open,
	.close = simple_remap_vm_close,
};

static const struct vm_operations_struct simple_remap_vm_page_ops = {
	.open = simple_remap_vm_open,
	.close = simple_remap_vm_close,
	.fault = simple_remap_vm_fault,
};

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
	default:
		return -ENOTTY;
	}
}

/* One remap_pfn_range() per physically contiguous chunk in the range. */
static int simple_remap_mmap_pfn(struct simple_remap_dev *sr,
				 struct vm_area_struct *vma)
{
	unsigned long pgoff = vma->vm_pgoff, left = vma_pages(vma);
	unsigned long addr = vma->vm_start, n;
	const struct simple_remap_chunk *c;
	int ret;

	for (c = sr->chunks; pgoff >= c->nr_pages; c++)
		pgoff -= c->nr_pages;
	for (; left; left -= n, addr += n << PAGE_SHIFT, pgoff = 0, c++) {
		n = min(left, c->nr_pages - pgoff);
		ret = remap_pfn_range(vma, addr, c->pfn + pgoff,
				      n << PAGE_SHIFT, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
}

static int simple_remap_mmap_pages(struct simple_remap_dev *sr,
				   struct vm_area_struct *vma)
{
	unsigned long nr = vma_pages(vma);
	int ret;

	ret = vm_insert_pages(vma, vma->vm_start, sr->pages + vma->vm_pgoff,
			      &nr);
	/* EFAULT: it could not allocate the page tables above the PTEs. */
	return ret == -EFAULT ? -ENOMEM : ret;
}

static int simple_remap_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct simple_remap_dev *sr = simple_remap_from_file(file);
	unsigned long pgoff = vma->vm_pgoff, nr = vma_pages(vma);
	vm_flags_t set = VM_DONTEXPAND | VM_DONTDUMP;
	int ret = 0;

	/* Overflow-safe: nothing is added to the user's vm_pgoff. */
	if (pgoff >= sr->nr_pages || nr > sr->nr_pages - pgoff)
		return -EINVAL;
	/* A private mapping would copy on write: writes would miss the buffer. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	/*
	 * VM_DONTEXPAND: mremap() cannot grow the mapping past the range
	 * checked above (and, set before any page is inserted, mlock() leaves
	 * the pages alone). VM_DONTDUMP: core dumps leave the buffer out.
	 * Clearing VM_MAYEXEC: mprotect() cannot make it executable later.
	 * remap_pfn_range() adds VM_IO | VM_PFNMAP. The struct page modes set
	 * VM_MIXEDMAP: their fault handler inserts pages (vm_insert_page()
	 * needs it there), and NUMA balancing leaves such a VMA alone rather
	 * than try, and fail, to migrate pages we hold.
	 */
	if (simple_remap_map_mode != SIMPLE_REMAP_MAP_REMAP)
		set |= VM_MIXEDMAP;
	simple_remap_vm_flags_mod(vma, set, VM_MAYEXEC);

	/* The mm core unmaps whatever a failed mmap() left behind. */
	switch (simple_remap_map_mode) {
	case SIMPLE_REMAP_MAP_REMAP:
		ret = simple_remap_mmap_pfn(sr, vma);
		break;
	case SIMPLE_REMAP_MAP_PAGES:
		ret = simple_remap_mmap_pages(sr, vma);
		break;
	case SIMPLE_REMAP_MAP_FAULT:
		break;
	}
	if (ret)
		return ret;

	/* Set only now: a VMA that failed above must not be counted as closed. */
	vma->vm_ops = simple_remap_map_mode == SIMPLE_REMAP_MAP_REMAP ?
			      &simple_remap_vm_pfn_ops :
			      &simple_remap_vm_page_ops;
	simple_remap_vm_open(vma);
	atomic_long_inc(&sr->mmap_calls);
	return 0;
}

static int simple_remap_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations simple_remap_fops = {
	.owner = THIS_MODULE,
	.open = simple_remap_open,
	.read = simple_remap_read,
	.write = simple_remap_write,
	.llseek = simple_remap_llseek,
	.poll = simple_remap_poll,
	.unlocked_ioctl = simple_remap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = simple_remap_mmap,
	.release = simple_remap_release,
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

static struct attribute *simple_remap_attrs[] = {
	&simple_remap_attr_mappings.attr,
	&simple_remap_attr_mmap_calls.attr,
	&simple_remap_attr_bytes_read.attr,
	&simple_remap_attr_bytes_written.attr,
	&simple_remap_attr_nr_chunks.attr,
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

	ret = simple_remap_alloc_pages(sr);
	if (ret) {
		pr_err("size=%zu: cannot allocate the buffer: %pe\n", sr->size,
		       ERR_PTR(ret));
		return ret;
	}

	ret = simple_remap_build_chunks(sr);
	if (ret)
		goto out_free_pages;

	sr->vaddr = vmap(sr->pages, sr->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!sr->vaddr) {
		ret = -ENOMEM;
		goto out_free_chunks;
	}

	sr->misc.groups = simple_remap_groups;
	ret = misc_register(&sr->misc);
	if (ret)
		goto out_vunmap;

	pr_info("%zu-byte buffer in %u chunk(s), map_mode=%s\n", sr->size,
		sr->nr_chunks, simple_remap_map_modes[simple_remap_map_mode]);
	return 0;

out_vunmap:
	vunmap(sr->vaddr);
out_free_chunks:
	kvfree(sr->chunks);
out_free_pages:
	simple_remap_free_pages(sr, sr->nr_pages);
	return ret;
}

static void __exit simple_remap_exit(void)
{
	struct simple_remap_dev *sr = &simple_remap;

	misc_deregister(&sr->misc);
	vunmap(sr->vaddr);
	kvfree(sr->chunks);
	simple_remap_free_pages(sr, sr->nr_pages);
}

module_init(simple_remap_init);
module_exit(simple_remap_exit);

MODULE_DESCRIPTION("A zeroed kernel buffer shared with user space by mmap()");
MODULE_AUTHOR("The simple_remap developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SIMPLE_REMAP_VERSION);
