/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the driver's files share: the device, its buffer, an open file, and
 * the calls between them.
 *
 *	simple_remap_dev.c	the device: parameters, file operations,
 *				ioctls, sysfs counters, misc device, init/exit
 *	simple_remap_buffer.c	the buffer: contiguous chunks or tmpfs pages,
 *				the kernel mapping, freeing
 *	simple_remap_mmap.c	the mapping modes: mmap(), vm_ops, fault,
 *				huge_fault
 *	simple_remap_dmabuf.c	dma-buf export of a window: the ioctl, the
 *				dma_buf_ops
 */
#ifndef _SIMPLE_REMAP_INTERNAL_H
#define _SIMPLE_REMAP_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm_types.h>
#include <linux/wait.h>

/**
 * enum simple_remap_map_mode - how mmap() maps the buffer (map_mode=)
 * @SIMPLE_REMAP_MAP_REMAP:	remap_pfn_range(), every PTE at mmap() time
 * @SIMPLE_REMAP_MAP_PAGES:	vm_insert_pages(), every PTE at mmap() time
 * @SIMPLE_REMAP_MAP_FAULT:	each page mapped on first touch
 * @SIMPLE_REMAP_MAP_HUGE:	on first touch, a PMD per 2 MiB run where the
 *				kernel and the address allow, else PTEs
 */
enum simple_remap_map_mode {
	SIMPLE_REMAP_MAP_REMAP,
	SIMPLE_REMAP_MAP_PAGES,
	SIMPLE_REMAP_MAP_FAULT,
	SIMPLE_REMAP_MAP_HUGE,
};

/* map_mode=huge: the pages one PMD maps (512 with 4 KiB pages). */
#define SIMPLE_REMAP_PMD_PAGES (PMD_SIZE >> PAGE_SHIFT)

/**
 * struct simple_remap_chunk - a physically contiguous run of the buffer
 * @pfn:	first page frame
 * @nr_pages:	pages in the run
 */
struct simple_remap_chunk {
	unsigned long pfn;
	unsigned long nr_pages;
};

struct simple_remap_dev;

/**
 * struct simple_remap_window - pages of the buffer that a mapping may map
 * @sr:		the device
 * @pgoff:	the window's first page in the buffer
 * @nr_pages:	pages in the window
 *
 * A VMA's vm_pgoff counts from @pgoff, and vm_private_data points here:
 * the device's own mmap() maps the whole buffer, a dma-buf its window.
 * Set once, then only read; the VMA's file keeps the window alive.
 */
struct simple_remap_window {
	struct simple_remap_dev *sr;
	unsigned long pgoff;
	unsigned long nr_pages;
};

/**
 * struct simple_remap_dev - the device and its buffer
 * @misc:	the /dev/simple_remap node; open() points file->private_data here
 * @map_mode:	how mmap() maps, from the map_mode parameter
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
 * @huge_blocks: map_mode=huge where the kernel has huge PFN mappings: bit
 *		i set when pages [i * 512, i * 512 + 512) are one physically
 *		contiguous, PFN-aligned run that one PMD can map; else NULL
 * @vaddr:	a contiguous kernel mapping of @pages, for read() and write()
 * @whole:	the window that mmap() of the device maps: the whole buffer
 * @seq:	the notification counter
 * @wq:		poll()ers waiting for @seq to move
 * @mappings:	live VMAs of the buffer, in every process
 * @mmap_calls:	successful mmap() calls since load
 * @bytes_read:	bytes read() since load
 * @bytes_written: bytes written since load
 *
 * Locking: everything but the counters is set at init and only read until
 * exit, so it needs no lock; the counters are atomics, and @wq has its own
 * lock. The buffer's bytes are shared memory: ordering accesses to them is
 * the business of the processes that share it, as with any shared mapping.
 */
struct simple_remap_dev {
	struct miscdevice misc;
	enum simple_remap_map_mode map_mode;
	struct page **pages;
	unsigned long nr_pages;
	size_t size;
	struct file *shmem;
	struct simple_remap_chunk *chunks;
	unsigned int nr_chunks;
	unsigned long *huge_blocks;
	void *vaddr;
	struct simple_remap_window whole;
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
 *		an atomic (no lock), as threads may share the file
 */
struct simple_remap_file {
	struct simple_remap_dev *sr;
	atomic64_t acked;
};

static inline struct simple_remap_dev *simple_remap_from_file(struct file *file)
{
	return ((struct simple_remap_file *)file->private_data)->sr;
}

/* simple_remap_buffer.c: @sr's nr_pages, size and map_mode are set. */
int simple_remap_buffer_alloc(struct simple_remap_dev *sr);
void simple_remap_buffer_free(struct simple_remap_dev *sr);

/* map_mode=huge: the largest entry a mapping gets (GET_INFO's map_granule). */
unsigned long simple_remap_map_granule(struct simple_remap_dev *sr);
/* map_mode=huge's mmap() where the kernel has mmap_prepare (compat.h). */
struct vm_area_desc;
int simple_remap_mmap_prepare(struct vm_area_desc *desc);

/*
 * simple_remap_mmap.c: map @vma's range of window @w (vm_pgoff counts from
 * the window's start), checked, the way the device's map_mode maps.
 */
int simple_remap_mmap_window(struct simple_remap_window *w,
			     struct vm_area_struct *vma);
int simple_remap_mmap(struct file *file, struct vm_area_struct *vma);

/* simple_remap_dmabuf.c: SIMPLE_REMAP_IOC_EXPORT on @file. */
struct simple_remap_export;
long simple_remap_ioctl_export(struct file *file,
			       struct simple_remap_export __user *argp);

#endif /* _SIMPLE_REMAP_INTERNAL_H */
