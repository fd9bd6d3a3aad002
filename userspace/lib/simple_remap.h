/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsimple_remap: open /dev/simple_remap, query it, map its buffer, and
 * wake other processes that share it. Every call returns 0 or -errno; the
 * library never prints and never exits.
 *
 *	struct simple_remap sr;
 *	char *p;
 *
 *	if (simple_remap_open(&sr, NULL, O_RDWR) == 0 &&
 *	    simple_remap_map(&sr, 0, 0, PROT_READ | PROT_WRITE, (void **)&p) == 0)
 *		strcpy(p, "hello");	// visible to every process that maps it
 */
#ifndef SIMPLE_REMAP_H
#define SIMPLE_REMAP_H

#include <stddef.h>
#include <stdint.h>

#include <linux/simple_remap.h>

#define SIMPLE_REMAP_DEFAULT_PATH "/dev/simple_remap"

/**
 * struct simple_remap - an open device
 * @fd:		the open file
 * @info:	what the driver reported when it was opened
 */
struct simple_remap {
	int fd;
	struct simple_remap_info info;
};

/**
 * simple_remap_open() - open the device and read its geometry
 * @sr:		filled in on success
 * @path:	the device node, or NULL for SIMPLE_REMAP_DEFAULT_PATH
 * @flags:	O_RDWR, or O_RDONLY for read-only mappings; O_CLOEXEC is added
 */
int simple_remap_open(struct simple_remap *sr, const char *path, int flags);

/** simple_remap_close() - close the device; mappings stay valid */
void simple_remap_close(struct simple_remap *sr);

/** simple_remap_get_info() - SIMPLE_REMAP_IOC_GET_INFO on @fd */
int simple_remap_get_info(int fd, struct simple_remap_info *info);

/**
 * simple_remap_map() - map part or all of the buffer, shared
 * @sr:		the open device
 * @offset:	byte offset into the buffer, a multiple of the page size
 * @length:	bytes to map, or 0 for everything from @offset to the end
 * @prot:	PROT_READ and/or PROT_WRITE
 * @addr:	the mapping, on success
 *
 * A range outside the buffer is -EINVAL before the kernel is asked.
 */
int simple_remap_map(const struct simple_remap *sr, uint64_t offset,
		     size_t length, int prot, void **addr);

/** simple_remap_unmap() - undo simple_remap_map() */
int simple_remap_unmap(void *addr, size_t length);

/**
 * simple_remap_notify() - wake every process waiting on the device
 * @sr:		the open device, open for writing (-EBADF otherwise)
 * @seq:	if not NULL, the notification counter after this notification
 */
int simple_remap_notify(const struct simple_remap *sr, uint64_t *seq);

/**
 * simple_remap_wait() - sleep until a notification this file has not
 *			  acknowledged, or until @timeout_ms (-1: forever)
 *
 * Returns 0 when one is pending, -ETIMEDOUT when none came in time. It does
 * not acknowledge: call simple_remap_ack() once the shared data is handled.
 */
int simple_remap_wait(const struct simple_remap *sr, int timeout_ms);

/**
 * simple_remap_ack() - acknowledge every notification so far
 * @sr:		the open device
 * @seq:	if not NULL, the counter value acknowledged
 */
int simple_remap_ack(const struct simple_remap *sr, uint64_t *seq);

/**
 * simple_remap_export() - a window of the buffer as a dma-buf
 * @sr:		the open device (open O_RDWR for a writable export)
 * @offset:	byte offset of the window, a multiple of the page size
 * @length:	bytes in the window, a multiple of the page size, or 0 for
 *		everything from @offset to the end
 * @flags:	O_RDONLY or O_RDWR, optionally | O_CLOEXEC
 * @fd:		the dma-buf's file descriptor, on success
 *
 * The dma-buf maps like the device (mmap() offsets count from the window's
 * start); it can be passed to another process (SCM_RIGHTS, or inherited)
 * that may not open the device, or to a kernel importer. It lives until
 * its last descriptor and mapping go, the device's file closed or not.
 * -EACCES: O_RDWR asked of a device opened O_RDONLY; -EINVAL: a window
 * outside the buffer (checked before the kernel is asked), not page-aligned,
 * or unknown flags.
 */
int simple_remap_export(const struct simple_remap *sr, uint64_t offset,
			uint64_t length, int flags, int *fd);

#endif /* SIMPLE_REMAP_H */
