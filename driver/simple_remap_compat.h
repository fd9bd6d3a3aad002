/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where simple_remap deals with kernel API differences.
 * Each is decided by the feature itself: a macro the kernel defines, or a
 * SIMPLE_REMAP_HAVE_* flag that Kbuild sets after looking for the symbol
 * in the headers being built against.
 */
#ifndef _SIMPLE_REMAP_COMPAT_H
#define _SIMPLE_REMAP_COMPAT_H

#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>

/*
 * The highest order the page allocator hands out. 6.8 named it
 * MAX_PAGE_ORDER; before 6.4 MAX_ORDER was one past it (6.4 to 6.7 made it
 * inclusive, where MAX_ORDER - 1 merely stays one order short).
 */
#ifdef MAX_PAGE_ORDER
#define SIMPLE_REMAP_MAX_ORDER MAX_PAGE_ORDER
#else
#define SIMPLE_REMAP_MAX_ORDER (MAX_ORDER - 1)
#endif

/* 6.3 made vma->vm_flags read-only behind setters that take the VMA lock. */
static inline void simple_remap_vm_flags_mod(struct vm_area_struct *vma,
					     vm_flags_t set, vm_flags_t clear)
{
#ifdef SIMPLE_REMAP_HAVE_VM_FLAGS_SET
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * shmem_file_setup()'s flags: our tmpfs file's pages are charged as they
 * are read, not all up front. Newer kernels (7.3 here) take the flags as a
 * vma_flags_t bitmap.
 */
#ifdef SIMPLE_REMAP_HAVE_SHMEM_VMA_FLAGS
#define SIMPLE_REMAP_SHMEM_NORESERVE mk_vma_flags(VMA_NORESERVE_BIT)
#else
#define SIMPLE_REMAP_SHMEM_NORESERVE VM_NORESERVE
#endif

/*
 * dma-buf (simple_remap_dmabuf.c). dma_buf_export() and the rest are
 * exported in the DMA_BUF symbol namespace, which a module must import or
 * fail to load. 6.13 changed how MODULE_IMPORT_NS() is written: 6.1 and
 * 6.12 take a bare word, MODULE_IMPORT_NS(DMA_BUF), which they stringify;
 * 6.13 on (7.3 here) take a string, MODULE_IMPORT_NS("DMA_BUF"), and the
 * bare word does not compile there, while the string is not stringified
 * again on the older ones (modpost refuses "\"DMA_BUF\""). Both expand to
 * this one modinfo entry, which is therefore written out: the same on
 * every kernel, no probe needed.
 */
#define SIMPLE_REMAP_IMPORT_NS_DMA_BUF MODULE_INFO(import_ns, "DMA_BUF")

/*
 * Why the dma-buf ops never take dmabuf->resv. From 6.2 (the "locking
 * convention" of drivers/dma-buf/dma-buf.c) the core calls map_dma_buf,
 * unmap_dma_buf, vmap and vunmap with the reservation lock held (and
 * asserts it), so taking it there deadlocks; on 6.1 a static importer
 * (videobuf2, DRM PRIME) calls map_dma_buf without it, a dynamic one with
 * it, so it may or may not be held. Taking it in no op is right on every
 * kernel: the export's state has its own lock instead (the export's maps),
 * which nests inside the reservation lock when the core holds that.
 */

/*
 * map_mode=huge: 2 MiB page table entries for PFNs. Only kernels with
 * special PMDs (6.12's "huge pfnmaps", CONFIG_ARCH_SUPPORTS_PMD_PFNMAP) can
 * map a PFN with a PMD that GUP and the rmap leave alone; 6.1's
 * vmf_insert_pfn_pmd() makes an ordinary huge PMD that GUP-fast would take
 * page references through. Without it the mode maps PTEs only and never
 * calls the huge path. Its .huge_fault takes an order (6.6 and later,
 * which every kernel with the config is).
 */
#ifdef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#define SIMPLE_REMAP_HUGE_PFNMAP
#include <linux/huge_mm.h>
#ifdef SIMPLE_REMAP_HAVE_PFN_T
#include <linux/pfn_t.h>
#endif

/*
 * One special PMD for @pfn at vmf->address & PMD_MASK, in vmf->pmd.
 * 6.17 dropped pfn_t: vmf_insert_pfn_pmd() takes the PFN itself since.
 * PFN_DEV alone (never PFN_MAP, which asks for a ZONE_DEVICE devmap PMD)
 * gives pmd_mkspecial().
 */
static inline vm_fault_t
simple_remap_insert_pfn_pmd(struct vm_fault *vmf, unsigned long pfn, bool write)
{
#ifdef SIMPLE_REMAP_HAVE_PFN_T
	return vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV), write);
#else
	return vmf_insert_pfn_pmd(vmf, pfn, write);
#endif
}
#endif /* CONFIG_ARCH_SUPPORTS_PMD_PFNMAP */

/*
 * file_operations.mmap_prepare (6.16): map_mode=huge sets up its VMA
 * there, as it maps nothing at mmap() time; before, in .mmap. A
 * file_operations that has both fails every mmap() with ENODEV, so the
 * huge mode's file_operations takes exactly one: this initializer.
 */
#ifdef SIMPLE_REMAP_HAVE_MMAP_PREPARE
#define SIMPLE_REMAP_MMAP_PREPARE
#define SIMPLE_REMAP_HUGE_MMAP_HOOK .mmap_prepare = simple_remap_mmap_prepare
#else
#define SIMPLE_REMAP_HUGE_MMAP_HOOK .mmap = simple_remap_mmap
#endif

#endif /* _SIMPLE_REMAP_COMPAT_H */
