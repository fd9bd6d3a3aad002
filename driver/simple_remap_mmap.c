// SPDX-License-Identifier: GPL-2.0
/*
 * simple_remap's mapping modes: mmap() of the buffer, checked (bounds,
 * MAP_SHARED, no exec), then mapped as map_mode says: "remap" makes every
 * PTE with remap_pfn_range() (VM_PFNMAP), "pages" with vm_insert_pages()
 * (struct pages that get_user_pages() can pin), "fault" one page at a time
 * on first touch, "huge" one PMD per 2 MiB run of the buffer on first touch
 * where the kernel and the address allow (PTEs elsewhere). Every VMA is
 * counted in the device's mappings. The device's mmap() maps the whole
 * buffer; a dma-buf export maps its window through the same code, so both
 * map alike in every mode.
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

/*
 * map_mode=huge: the PTE fallback, for every page a PMD cannot map (the
 * address or buffer offset is not 2 MiB-aligned, the run is not physically
 * contiguous, the VMA covers part of it, the kernel or THP's settings
 * refuse huge entries). A special PTE of the page's PFN (VM_PFNMAP).
 */
static vm_fault_t simple_remap_vm_pfn_fault(struct vm_fault *vmf)
{
	struct simple_remap_window *w = simple_remap_vma_window(vmf->vma);

	if (vmf->pgoff >= w->nr_pages)
		return VM_FAULT_SIGBUS;
	/* Mapped by another thread meanwhile: VM_FAULT_NOPAGE all the same. */
	return vmf_insert_pfn(vmf->vma, vmf->address,
			      page_to_pfn(w->sr->pages[w->pgoff + vmf->pgoff]));
}

#ifdef SIMPLE_REMAP_HUGE_PFNMAP
/*
 * Whether one PMD can map @addr, a 2 MiB-aligned address, in @vma: the
 * 2 MiB lie wholly inside the VMA and the window, start at a 2 MiB-aligned
 * page of the buffer, and are one physically contiguous, PFN-aligned run
 * (the buffer's huge_blocks). Then *@pfn is its first PFN.
 */
static bool simple_remap_pmd_pfn(struct vm_area_struct *vma, unsigned long addr,
				 unsigned long *pfn)
{
	struct simple_remap_window *w = simple_remap_vma_window(vma);
	struct simple_remap_dev *sr = w->sr;
	unsigned long pgoff;

	if (addr < vma->vm_start || vma->vm_end - addr < PMD_SIZE)
		return false;
	pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (pgoff >= w->nr_pages ||
	    w->nr_pages - pgoff < SIMPLE_REMAP_PMD_PAGES)
		return false;
	pgoff += w->pgoff;
	if (!IS_ALIGNED(pgoff, SIMPLE_REMAP_PMD_PAGES) ||
	    !test_bit(pgoff / SIMPLE_REMAP_PMD_PAGES, sr->huge_blocks))
		return false;
	*pfn = page_to_pfn(sr->pages[pgoff]);
	return true;
}

/*
 * Around a PMD fault, the other PMDs of the same page table page (the
 * 1 GiB under vmf->pud) that can map the buffer are made too, each as
 * if read-faulted: touching a large mapping then takes one fault per GiB
 * rather than one per 2 MiB (a hugetlb memfd's 512 per GiB). Bounded by
 * that one page table page, which already exists: nothing is allocated.
 * An entry already there (a PMD, or a page table of PTEs) stays as is.
 */
static void simple_remap_pmd_around(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long fault = vmf->address & PMD_MASK, base, addr, pfn;

	base = max(vmf->address & PUD_MASK, vma->vm_start);
	for (addr = ALIGN(base, PMD_SIZE);
	     addr < vma->vm_end && (addr & PUD_MASK) == (fault & PUD_MASK);
	     addr += PMD_SIZE) {
		struct vm_fault around = {
			.vma = vma,
			.address = addr,
			.pud = vmf->pud,
			.pmd = pmd_offset(vmf->pud, addr),
		};

		if (addr == fault || !simple_remap_pmd_pfn(vma, addr, &pfn))
			continue;
		if (simple_remap_insert_pfn_pmd(&around, pfn, false) !=
		    VM_FAULT_NOPAGE)
			break;
	}
}

/*
 * map_mode=huge: a PMD (the core asks with PMD_ORDER; never with 0) for
 * the 2 MiB around vmf->address, then the PMDs around it; or
 * VM_FAULT_FALLBACK, and the core maps the page with .fault. A write
 * fault on a read-only PMD of ours comes here too: inserting the same
 * PFN again makes it writable.
 */
static vm_fault_t simple_remap_vm_huge_fault(struct vm_fault *vmf,
					     unsigned int order)
{
	unsigned long pfn;
	vm_fault_t ret;

	if (order != PMD_ORDER ||
	    !simple_remap_pmd_pfn(vmf->vma, vmf->address & PMD_MASK, &pfn))
		return VM_FAULT_FALLBACK;
	ret = simple_remap_insert_pfn_pmd(vmf, pfn,
					  vmf->flags & FAULT_FLAG_WRITE);
	if (ret == VM_FAULT_NOPAGE)
		simple_remap_pmd_around(vmf);
	return ret;
}
#endif /* SIMPLE_REMAP_HUGE_PFNMAP */

/*
 * map_mode=huge's VMA hooks, however the VMA was set up: PTEs from .fault,
 * PMDs from .huge_fault where the kernel has huge PFN mappings.
 */
#ifdef SIMPLE_REMAP_HUGE_PFNMAP
#define SIMPLE_REMAP_VM_HUGE_FAULT .huge_fault = simple_remap_vm_huge_fault,
#else
#define SIMPLE_REMAP_VM_HUGE_FAULT
#endif
#define SIMPLE_REMAP_VM_HUGE_OPS                                      \
	.open = simple_remap_vm_open, .close = simple_remap_vm_close, \
	.fault = simple_remap_vm_pfn_fault, SIMPLE_REMAP_VM_HUGE_FAULT

/* map_mode=huge, through .mmap (the device's on older kernels, a dma-buf's). */
static const struct vm_operations_struct simple_remap_vm_huge_ops = {
	SIMPLE_REMAP_VM_HUGE_OPS
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

/*
 * map_mode=huge's VMA: PFNs without struct page semantics (VM_PFNMAP, as
 * remap mode, and VM_IO as remap_pfn_range() sets it), never VM_MIXEDMAP:
 * vmf_insert_pfn_pmd() makes special PMDs only in a VM_PFNMAP VMA, and
 * slow GUP refuses a VM_PFNMAP VMA (EFAULT) where it would follow a PMD's
 * page. VM_HUGEPAGE: with THP "madvise" the core calls .huge_fault only
 * for such a VMA. Nothing is mapped up front.
 */
#ifdef SIMPLE_REMAP_HUGE_PFNMAP
#define SIMPLE_REMAP_HUGE_VM_FLAGS (VM_IO | VM_PFNMAP | VM_HUGEPAGE)
#else
#define SIMPLE_REMAP_HUGE_VM_FLAGS (VM_IO | VM_PFNMAP)
#endif

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
	 * than try, and fail, to migrate pages we hold. Huge mode: see
	 * SIMPLE_REMAP_HUGE_VM_FLAGS.
	 */
	if (sr->map_mode == SIMPLE_REMAP_MAP_HUGE)
		set |= SIMPLE_REMAP_HUGE_VM_FLAGS;
	else if (sr->map_mode != SIMPLE_REMAP_MAP_REMAP)
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
	case SIMPLE_REMAP_MAP_HUGE:
		break;
	}
	if (ret)
		return ret;

	/* Set only now: a VMA that failed above must not be counted as closed. */
	if (sr->map_mode == SIMPLE_REMAP_MAP_HUGE)
		vma->vm_ops = &simple_remap_vm_huge_ops;
	else if (sr->map_mode == SIMPLE_REMAP_MAP_REMAP)
		vma->vm_ops = &simple_remap_vm_pfn_ops;
	else
		vma->vm_ops = &simple_remap_vm_page_ops;
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

#ifdef SIMPLE_REMAP_MMAP_PREPARE
/*
 * map_mode=huge through mmap_prepare: the VMA now exists and is ours to
 * count. Only a VMA set up by mmap_prepare may have this hook (one set up
 * by .mmap, such as a dma-buf's, fails with it), hence the second vm_ops.
 */
static int simple_remap_vm_mapped(unsigned long start, unsigned long end,
				  pgoff_t pgoff, const struct file *file,
				  void **vm_private_data)
{
	struct simple_remap_window *w = *vm_private_data;

	atomic_long_inc(&w->sr->mappings);
	atomic_long_inc(&w->sr->mmap_calls);
	return 0;
}

static const struct vm_operations_struct simple_remap_vm_huge_prepared_ops = {
	.mapped = simple_remap_vm_mapped,
	SIMPLE_REMAP_VM_HUGE_OPS
};

/*
 * map_mode=huge's .mmap_prepare (the device's own mmap() where the kernel
 * has the hook): the checks and flags of simple_remap_mmap_window(), on
 * the descriptor of the VMA to be, which nothing maps up front.
 */
int simple_remap_mmap_prepare(struct vm_area_desc *desc)
{
	struct simple_remap_window *w =
		&simple_remap_from_file(desc->file)->whole;
	unsigned long pgoff = desc->pgoff, nr = vma_desc_pages(desc);

	if (pgoff >= w->nr_pages || nr > w->nr_pages - pgoff)
		return -EINVAL;
	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT))
		return -EINVAL;
	if (vma_desc_test(desc, VMA_EXEC_BIT))
		return -EPERM;
	vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT, VMA_DONTDUMP_BIT,
			   VMA_IO_BIT, VMA_PFNMAP_BIT, VMA_HUGEPAGE_BIT);
	vma_desc_clear_flags(desc, VMA_MAYEXEC_BIT);
	desc->vm_ops = &simple_remap_vm_huge_prepared_ops;
	desc->private_data = w;
	return 0;
}
#endif /* SIMPLE_REMAP_MMAP_PREPARE */
