// SPDX-License-Identifier: GPL-2.0
/*
 * simple_remap's buffer: allocated at load, freed at unload, and mapped
 * into the kernel once (vmap()) for read() and write().
 *
 * map_mode=remap takes zeroed pages from the page allocator in the largest
 * physically contiguous chunks it gives cheaply, so that a mapping takes
 * few remap_pfn_range() calls. The struct page modes take the pages of a
 * kernel-internal tmpfs file instead, because the kernel keys a futex
 * shared between processes by the page's file and offset.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "simple_remap_compat.h"
#include "simple_remap_internal.h"

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
 * map_mode=remap and huge: zeroed pages in the largest physically contiguous chunks
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

	if (sr->map_mode == SIMPLE_REMAP_MAP_REMAP ||
	    sr->map_mode == SIMPLE_REMAP_MAP_HUGE)
		return simple_remap_alloc_chunks(sr);
	return simple_remap_alloc_shmem_uncharged(sr);
}

/*
 * map_mode=huge: which 2 MiB blocks of the buffer one PMD can map. The
 * allocator's blocks of order 9 and up are naturally aligned, so such a
 * block, or two adjacent smaller ones, qualify; a fragmented machine's
 * smaller chunks leave their blocks to PTEs. Only where the kernel has
 * huge PFN mappings: elsewhere nothing would read it.
 */
static int simple_remap_build_huge_blocks(struct simple_remap_dev *sr)
{
#ifdef SIMPLE_REMAP_HUGE_PFNMAP
	unsigned long nr = sr->nr_pages / SIMPLE_REMAP_PMD_PAGES, b, i, pfn;
	struct page **pages;

	if (sr->map_mode != SIMPLE_REMAP_MAP_HUGE)
		return 0;
	sr->huge_blocks = bitmap_zalloc(max(nr, 1UL), GFP_KERNEL);
	if (!sr->huge_blocks)
		return -ENOMEM;
	for (b = 0; b < nr; b++) {
		pages = sr->pages + b * SIMPLE_REMAP_PMD_PAGES;
		pfn = page_to_pfn(pages[0]);
		if (!IS_ALIGNED(pfn, SIMPLE_REMAP_PMD_PAGES))
			continue;
		for (i = 1; i < SIMPLE_REMAP_PMD_PAGES; i++)
			if (page_to_pfn(pages[i]) != pfn + i)
				break;
		if (i == SIMPLE_REMAP_PMD_PAGES)
			__set_bit(b, sr->huge_blocks);
	}
#endif
	return 0;
}

/*
 * The granularity GET_INFO reports: a PMD in huge mode where the kernel
 * maps PFNs with PMDs (with THP "never" a kernel before 6.12.114 still
 * falls back to PTEs), else a page.
 */
unsigned long simple_remap_map_granule(struct simple_remap_dev *sr)
{
#ifdef SIMPLE_REMAP_HUGE_PFNMAP
	if (sr->map_mode == SIMPLE_REMAP_MAP_HUGE)
		return PMD_SIZE;
#endif
	return PAGE_SIZE;
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

	if (sr->map_mode != SIMPLE_REMAP_MAP_REMAP)
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

/*
 * The pages (which unwind themselves on failure), the chunk table, the
 * kernel mapping: on failure, everything allocated here is freed again.
 */
int simple_remap_buffer_alloc(struct simple_remap_dev *sr)
{
	int ret;

	ret = simple_remap_alloc_pages(sr);
	if (ret)
		return ret;

	ret = simple_remap_build_chunks(sr);
	if (ret)
		goto out_free_pages;
	ret = simple_remap_build_huge_blocks(sr);
	if (ret)
		goto out_free_chunks;

	sr->vaddr = vmap(sr->pages, sr->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!sr->vaddr) {
		ret = -ENOMEM;
		goto out_free_chunks;
	}
	return 0;

out_free_chunks:
	bitmap_free(sr->huge_blocks);
	sr->huge_blocks = NULL;
	kvfree(sr->chunks);
	sr->chunks = NULL;
out_free_pages:
	simple_remap_free_pages(sr, sr->nr_pages);
	return ret;
}

void simple_remap_buffer_free(struct simple_remap_dev *sr)
{
	vunmap(sr->vaddr);
	bitmap_free(sr->huge_blocks);
	kvfree(sr->chunks);
	simple_remap_free_pages(sr, sr->nr_pages);
}
