// SPDX-License-Identifier: GPL-2.0
/*
 * simple_remap's dma-buf export: SIMPLE_REMAP_IOC_EXPORT hands a window of
 * the buffer to the rest of the system as a dma-buf file. Other processes
 * map it (it maps like the device, through simple_remap_mmap_window(), in
 * every map_mode) without access to the node; kernel importers get a
 * scatter-gather table of its pages (map_dma_buf) or the buffer's kernel
 * mapping (vmap). The buffer is ordinary cached kernel memory, always
 * backed by struct pages, whatever the map_mode.
 *
 * Lifetime: dma_buf_export() takes a reference on this module for the
 * dma-buf, dropped after release; the dma-buf lives as long as a file
 * descriptor, a mapping or an importer's attachment holds it. So the
 * buffer, which lives until unload, outlives every export.
 */

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <linux/simple_remap.h>

#include "simple_remap_compat.h"
#include "simple_remap_internal.h"

SIMPLE_REMAP_IMPORT_NS_DMA_BUF;

/**
 * struct simple_remap_dmabuf - one export: the dma-buf's priv
 * @window:	the pages it exports; set before the dma-buf exists, then
 *		only read
 * @lock:	protects @maps
 * @maps:	every importer's mapping (struct simple_remap_dmabuf_map)
 *		not yet unmapped, for begin/end_cpu_access to sync
 */
struct simple_remap_dmabuf {
	struct simple_remap_window window;
	struct mutex lock; /* protects maps */
	struct list_head maps;
};

/**
 * struct simple_remap_dmabuf_map - one map_dma_buf() call's mapping
 * @sgt:	the window's pages, mapped for @dev; what the importer gets
 * @dev:	the importer's device (attach->dev)
 * @dir:	the direction it was mapped in, which a sync must repeat
 * @node:	in the export's maps
 *
 * One per call, not per attachment: an importer may map an attachment
 * more than once, in different directions (7.3 caches no mapping).
 */
struct simple_remap_dmabuf_map {
	struct sg_table sgt;
	struct device *dev;
	enum dma_data_direction dir;
	struct list_head node;
};

/*
 * The ops below never take dmabuf->resv: see simple_remap_compat.h on who
 * holds it when. Their own state is the export's lock, which may nest
 * inside the reservation lock.
 */

/* The longest scatterlist segment @dev can map, in whole pages. */
static unsigned int simple_remap_dmabuf_max_segment(struct device *dev)
{
	size_t seg = min_t(size_t, dma_max_mapping_size(dev), UINT_MAX);

	return max_t(size_t, seg & PAGE_MASK, PAGE_SIZE);
}

static struct sg_table *
simple_remap_dmabuf_map(struct dma_buf_attachment *attach,
			enum dma_data_direction dir)
{
	struct simple_remap_dmabuf *exp = attach->dmabuf->priv;
	struct page **pages = exp->window.sr->pages + exp->window.pgoff;
	unsigned int seg = simple_remap_dmabuf_max_segment(attach->dev);
	unsigned long n = exp->window.nr_pages;
	unsigned long len = n << PAGE_SHIFT;
	struct simple_remap_dmabuf_map *map;
	int ret;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return ERR_PTR(-ENOMEM);
	/* Physically contiguous pages merge into one entry. */
	ret = sg_alloc_table_from_pages_segment(&map->sgt, pages, n, 0, len,
						seg, GFP_KERNEL);
	if (ret)
		goto out_free;
	ret = dma_map_sgtable(attach->dev, &map->sgt, dir, 0);
	if (ret)
		goto out_free_table;
	map->dev = attach->dev;
	map->dir = dir;
	mutex_lock(&exp->lock);
	list_add(&map->node, &exp->maps);
	mutex_unlock(&exp->lock);
	return &map->sgt;

out_free_table:
	sg_free_table(&map->sgt);
out_free:
	kfree(map);
	return ERR_PTR(ret);
}

static void simple_remap_dmabuf_unmap(struct dma_buf_attachment *attach,
				      struct sg_table *sgt,
				      enum dma_data_direction dir)
{
	struct simple_remap_dmabuf *exp = attach->dmabuf->priv;
	struct simple_remap_dmabuf_map *map =
		container_of(sgt, struct simple_remap_dmabuf_map, sgt);

	mutex_lock(&exp->lock);
	list_del(&map->node);
	mutex_unlock(&exp->lock);
	dma_unmap_sgtable(map->dev, sgt, map->dir, 0);
	sg_free_table(sgt);
	kfree(map);
}

/*
 * The buffer has a kernel mapping from load to unload (read() and write()
 * use it), and the dma-buf keeps the module loaded: hand out that.
 * videobuf2-vmalloc imports a dma-buf through vmap alone.
 */
static int simple_remap_dmabuf_vmap(struct dma_buf *dmabuf,
				    struct iosys_map *map)
{
	struct simple_remap_dmabuf *exp = dmabuf->priv;

	iosys_map_set_vaddr(map, exp->window.sr->vaddr +
					 (exp->window.pgoff << PAGE_SHIFT));
	return 0;
}

/* The mapping vmap handed out is the buffer's own: nothing to undo. */
static void simple_remap_dmabuf_vunmap(struct dma_buf *dmabuf,
				       struct iosys_map *map)
{
}

/*
 * DMA_BUF_IOCTL_SYNC: the CPU reaches the buffer through cached mappings,
 * an importer's device by DMA: hand each live mapping to the CPU, or back
 * to its device, in the direction it was mapped. Nothing to do where DMA
 * is coherent (x86).
 */
static void simple_remap_dmabuf_sync(struct dma_buf *dmabuf, bool for_cpu)
{
	struct simple_remap_dmabuf *exp = dmabuf->priv;
	struct simple_remap_dmabuf_map *map;

	mutex_lock(&exp->lock);
	list_for_each_entry(map, &exp->maps, node) {
		if (for_cpu)
			dma_sync_sgtable_for_cpu(map->dev, &map->sgt, map->dir);
		else
			dma_sync_sgtable_for_device(map->dev, &map->sgt,
						    map->dir);
	}
	mutex_unlock(&exp->lock);
}

static int simple_remap_dmabuf_begin_cpu(struct dma_buf *dmabuf,
					 enum dma_data_direction dir)
{
	simple_remap_dmabuf_sync(dmabuf, true);
	return 0;
}

static int simple_remap_dmabuf_end_cpu(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	simple_remap_dmabuf_sync(dmabuf, false);
	return 0;
}

/*
 * mmap() of the dma-buf, or an importer's dma_buf_mmap(): vm_pgoff counts
 * from the window's start (the dma-buf core has checked it against the
 * dma-buf's size), and the VMA's file is the dma-buf's, which keeps the
 * export alive for as long as the mapping.
 */
static int simple_remap_dmabuf_mmap(struct dma_buf *dmabuf,
				    struct vm_area_struct *vma)
{
	struct simple_remap_dmabuf *exp = dmabuf->priv;

	return simple_remap_mmap_window(&exp->window, vma);
}

/* The last reference is gone: no mapping, attachment or fd is left. */
static void simple_remap_dmabuf_release(struct dma_buf *dmabuf)
{
	struct simple_remap_dmabuf *exp = dmabuf->priv;

	mutex_destroy(&exp->lock);
	kfree(exp);
}

static const struct dma_buf_ops simple_remap_dmabuf_ops = {
	.map_dma_buf = simple_remap_dmabuf_map,
	.unmap_dma_buf = simple_remap_dmabuf_unmap,
	.vmap = simple_remap_dmabuf_vmap,
	.vunmap = simple_remap_dmabuf_vunmap,
	.begin_cpu_access = simple_remap_dmabuf_begin_cpu,
	.end_cpu_access = simple_remap_dmabuf_end_cpu,
	.mmap = simple_remap_dmabuf_mmap,
	.release = simple_remap_dmabuf_release,
};

/*
 * The request, checked: a page-aligned, non-empty window inside the
 * buffer (without overflow: nothing is added to the user's offset), known
 * flags, and no more access than @file has.
 */
static int simple_remap_export_check(struct simple_remap_dev *sr,
				     struct file *file,
				     const struct simple_remap_export *req)
{
	u32 access = req->flags & O_ACCMODE;

	if (req->flags & ~(O_ACCMODE | O_CLOEXEC))
		return -EINVAL;
	if (access != O_RDONLY && access != O_RDWR)
		return -EINVAL;
	if (!req->length || !PAGE_ALIGNED(req->offset) ||
	    !PAGE_ALIGNED(req->length))
		return -EINVAL;
	if (req->offset >= sr->size || req->length > sr->size - req->offset)
		return -EINVAL;
	/* An export never grants more than its maker has. */
	if (access == O_RDWR && !(file->f_mode & FMODE_WRITE))
		return -EACCES;
	return 0;
}

/*
 * SIMPLE_REMAP_IOC_EXPORT. The file descriptor is installed only once the
 * caller has its number: a failed call leaves no descriptor behind.
 */
long simple_remap_ioctl_export(struct file *file,
			       struct simple_remap_export __user *argp)
{
	struct simple_remap_dev *sr = simple_remap_from_file(file);
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct simple_remap_export req;
	struct simple_remap_dmabuf *exp;
	struct dma_buf *dmabuf;
	int fd, ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	ret = simple_remap_export_check(sr, file, &req);
	if (ret)
		return ret;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp)
		return -ENOMEM;
	exp->window.sr = sr;
	exp->window.pgoff = req.offset >> PAGE_SHIFT;
	exp->window.nr_pages = req.length >> PAGE_SHIFT;
	mutex_init(&exp->lock);
	INIT_LIST_HEAD(&exp->maps);

	info.ops = &simple_remap_dmabuf_ops;
	info.size = req.length;
	/* The dma-buf file's mode: O_RDONLY drops FMODE_WRITE, so VM_MAYWRITE. */
	info.flags = req.flags & O_ACCMODE;
	info.priv = exp;
	dmabuf = dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		mutex_destroy(&exp->lock);
		kfree(exp);
		return PTR_ERR(dmabuf);
	}

	/* From here on, dma_buf_put() frees @exp through release. */
	fd = get_unused_fd_flags(req.flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	if (put_user(fd, &argp->fd)) {
		ret = -EFAULT;
		goto out_put_fd;
	}
	fd_install(fd, dmabuf->file);
	return 0;

out_put_fd:
	put_unused_fd(fd);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}
