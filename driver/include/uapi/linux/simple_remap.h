/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * simple_remap: a kernel buffer shared with user space through mmap().
 *
 * The contract between the driver and user space. Both include this very
 * file (-I driver/include/uapi); it is never copied.
 *
 *	fd = open("/dev/simple_remap", O_RDWR);
 *	ioctl(fd, SIMPLE_REMAP_IOC_GET_INFO, &info);
 *	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
 *
 * Processes sharing the buffer wake each other through the device: a
 * notification (SIMPLE_REMAP_IOC_NOTIFY, or any write()) advances a counter
 * and wakes every poll()er; an open file is readable (POLLIN) while the
 * counter differs from the value it last acknowledged
 * (SIMPLE_REMAP_IOC_ACK). A new file starts acknowledged.
 *
 * A window of the buffer can be handed to the rest of the system as a
 * dma-buf (SIMPLE_REMAP_IOC_EXPORT): other processes map it without access
 * to the node, and kernel importers (V4L2, DRM) use it without a copy.
 *
 * ABI history: 1, the buffer and SIMPLE_REMAP_IOC_GET_INFO; 2, the counter
 * (simple_remap_info.seq, NOTIFY, ACK, poll()); 3, SIMPLE_REMAP_IOC_EXPORT
 * and map_mode=huge's granularity (simple_remap_info.map_granule). Older
 * binaries keep working.
 */
#ifndef _UAPI_LINUX_SIMPLE_REMAP_H
#define _UAPI_LINUX_SIMPLE_REMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SIMPLE_REMAP_ABI_VERSION 3

/**
 * struct simple_remap_info - what SIMPLE_REMAP_IOC_GET_INFO reports
 * @size:	(out) buffer size in bytes, a multiple of @page_size
 * @mappings:	(out) live mappings (VMAs) of the buffer, all processes
 * @page_size:	(out) the kernel's page size
 * @abi_version: (out) SIMPLE_REMAP_ABI_VERSION of the running driver
 * @nr_chunks:	(out) physically contiguous chunks backing the buffer
 * @__pad:	(out) zero
 * @seq:	(out) the notification counter (ABI 2); reading it here does
 *		not acknowledge it
 * @map_granule: (out) the largest page table entry a mapping of the
 *		buffer gets where its user address and pages allow (ABI 3):
 *		2 MiB (a PMD) in map_mode=huge on kernels that map PFNs with
 *		huge entries, else @page_size
 * @__reserved:	(out) zero; later ABI versions give these a meaning
 */
struct simple_remap_info {
	__u64 size;
	__u64 mappings;
	__u32 page_size;
	__u32 abi_version;
	__u32 nr_chunks;
	__u32 __pad;
	__u64 seq;
	__u64 map_granule;
	__u64 __reserved[2];
};

#define SIMPLE_REMAP_IOC_MAGIC 0xE5

#define SIMPLE_REMAP_IOC_GET_INFO \
	_IOR(SIMPLE_REMAP_IOC_MAGIC, 0x00, struct simple_remap_info)
/*
 * Advance the counter, wake every waiter; (out) the new counter. ABI 2.
 * Needs a file open for writing (EBADF otherwise). A failed call (EFAULT)
 * has advanced nothing and woken no one; a failed ACK acknowledged nothing.
 */
#define SIMPLE_REMAP_IOC_NOTIFY _IOR(SIMPLE_REMAP_IOC_MAGIC, 0x01, __u64)
/* (out) the counter, which this open file now has acknowledged. ABI 2. */
#define SIMPLE_REMAP_IOC_ACK _IOR(SIMPLE_REMAP_IOC_MAGIC, 0x02, __u64)

/**
 * struct simple_remap_export - a window of the buffer, as a dma-buf (ABI 3)
 * @offset:	(in) byte offset of the window, a multiple of the page size
 * @length:	(in) bytes in the window, a multiple of the page size, > 0
 * @flags:	(in) O_RDONLY or O_RDWR, optionally | O_CLOEXEC
 * @fd:		(out) the dma-buf's file descriptor
 *
 * The dma-buf maps like the device: MAP_SHARED only, never executable, an
 * mmap() offset counting from the window's start, never past its end. An
 * O_RDONLY export cannot be mapped writable. It outlives the device file
 * that made it, and keeps the module loaded for as long as it lives.
 */
struct simple_remap_export {
	__u64 offset;
	__u64 length;
	__u32 flags;
	__s32 fd;
};

/*
 * Export a window as a dma-buf. EINVAL: offset or length not page-aligned,
 * length 0, the window past the buffer, unknown flags; EACCES: O_RDWR asked
 * of a file open read-only. A failed call has created no file descriptor.
 */
#define SIMPLE_REMAP_IOC_EXPORT \
	_IOWR(SIMPLE_REMAP_IOC_MAGIC, 0x03, struct simple_remap_export)

#endif /* _UAPI_LINUX_SIMPLE_REMAP_H */
