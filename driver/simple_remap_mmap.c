// SPDX-License-Identifier: GPL-2.0
/*
 * simple_remap's mapping modes: mmap() of the buffer, checked (bounds,
 * MAP_SHARED, no exec), then mapped as map_mode says: "remap" makes every
 * PTE with remap_pfn_range() (VM_PFNMAP), "pages" with vm_insert_pages()
 * (struct pages that get_user_pages() can pin), "fault" one page at a time
 * on first touch. Every VMA is counted in the device's mappings. The
 * device's mmap() maps the whole buffer; a dma-buf export maps its window
 * through the same code, so both map alike in every mode.
 */

#include <linux/mm.h>

#include "simple_remap_compat.h"
#include "simple_remap_internal.h"

static struct simple_remap_window *
simple_remap_vma_window(struct vm_area_struct *vma)
{
	return vma->vm_private_data;
}

static void simple_remap_vm_open(struct vm_area_struct *vma)
{
	atomic_long_inc(&simple_remap_vma_window(vma)->sr->mappings);
}

static void simple_remap_vm_close(struct vm_area_struct *vma)
{
	atomic_long_dec(&simple_remap_vma_window(vma)->sr->mappings);
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
	struct simple_remap_window *w = simple_remap_vma_window(vmf->vma);
	int ret;

	if (vmf->pgoff >= w->nr_pages)
		return VM_FAULT_SIGBUS;
	ret = vm_insert_page(vmf->vma, vmf->address,
			     w->sr->pages[w->pgoff + vmf->pgoff]);
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

/* One remap_pfn_range() per physically contiguous chunk in the range. */
static int simple_remap_mmap_pfn(struct simple_remap_dev *sr,
				 struct vm_area_struct *vma,
				 unsigned long pgoff)
{
	unsigned long left = vma_pages(vma), addr = vma->vm_start, n;
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
				   struct vm_area_struct *vma,
				   unsigned long pgoff)
{
	unsigned long nr = vma_pages(vma);
	int ret;

	ret = vm_insert_pages(vma, vma->vm_start, sr->pages + pgoff, &nr);
	/* EFAULT: it could not allocate the page tables above the PTEs. */
	return ret == -EFAULT ? -ENOMEM : ret;
}

int simple_remap_mmap_window(struct simple_remap_window *w,
			     struct vm_area_struct *vma)
{
	struct simple_remap_dev *sr = w->sr;
	unsigned long pgoff = vma->vm_pgoff, nr = vma_pages(vma);
	vm_flags_t set = VM_DONTEXPAND | VM_DONTDUMP;
	int ret = 0;

	/* Overflow-safe: nothing is added to the user's vm_pgoff. */
	if (pgoff >= w->nr_pages || nr > w->nr_pages - pgoff)
		return -EINVAL;
	/* A private mapping would copy on write: writes would miss the buffer. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	/* Within the window now, so within the buffer. */
	pgoff += w->pgoff;

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
	if (sr->map_mode != SIMPLE_REMAP_MAP_REMAP)
		set |= VM_MIXEDMAP;
	simple_remap_vm_flags_mod(vma, set, VM_MAYEXEC);

	/* The mm core unmaps whatever a failed mmap() left behind. */
	switch (sr->map_mode) {
	case SIMPLE_REMAP_MAP_REMAP:
		ret = simple_remap_mmap_pfn(sr, vma, pgoff);
		break;
	case SIMPLE_REMAP_MAP_PAGES:
		ret = simple_remap_mmap_pages(sr, vma, pgoff);
		break;
	case SIMPLE_REMAP_MAP_FAULT:
		break;
	}
	if (ret)
		return ret;

	/* Set only now: a VMA that failed above must not be counted as closed. */
	vma->vm_ops = sr->map_mode == SIMPLE_REMAP_MAP_REMAP ?
			      &simple_remap_vm_pfn_ops :
			      &simple_remap_vm_page_ops;
	vma->vm_private_data = w;
	simple_remap_vm_open(vma);
	atomic_long_inc(&sr->mmap_calls);
	return 0;
}

int simple_remap_mmap(struct file *file, struct vm_area_struct *vma)
{
	return simple_remap_mmap_window(&simple_remap_from_file(file)->whole,
					vma);
}
