// SPDX-License-Identifier: GPL-2.0
/*
 * sr_bugs: the debug tier's positive controls (make check-debug). A
 * test-only module, never shipped: each parameter commits one bug at load
 * that the debug kernel's checkers must report.
 *
 *   insmod sr_bugs.ko uaf=1         reads freed memory: KASAN
 *   insmod sr_bugs.ko lock_order=1  takes two mutexes in both orders: lockdep
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>

static bool sr_bugs_uaf;
module_param_named(uaf, sr_bugs_uaf, bool, 0444);
MODULE_PARM_DESC(uaf, "Read freed memory at load (KASAN)");

static bool sr_bugs_lock_order;
module_param_named(lock_order, sr_bugs_lock_order, bool, 0444);
MODULE_PARM_DESC(lock_order, "Take two mutexes in both orders (lockdep)");

static DEFINE_MUTEX(sr_bugs_a);
static DEFINE_MUTEX(sr_bugs_b);

static void sr_bugs_use_after_free(void)
{
	u8 *p;

	p = kmalloc(32, GFP_KERNEL);
	if (!p)
		return;
	kfree(p);
	/* Keep the compiler from seeing, or dropping, the read of freed memory. */
	OPTIMIZER_HIDE_VAR(p);
	pr_info("uaf: read %u from freed memory\n", READ_ONCE(p[8]));
}

static void sr_bugs_abba(void)
{
	mutex_lock(&sr_bugs_a);
	mutex_lock(&sr_bugs_b);
	mutex_unlock(&sr_bugs_b);
	mutex_unlock(&sr_bugs_a);

	mutex_lock(&sr_bugs_b);
	mutex_lock(&sr_bugs_a);
	mutex_unlock(&sr_bugs_a);
	mutex_unlock(&sr_bugs_b);
	pr_info("lock_order: took a then b, then b then a\n");
}

static int __init sr_bugs_init(void)
{
	if (sr_bugs_uaf)
		sr_bugs_use_after_free();
	if (sr_bugs_lock_order)
		sr_bugs_abba();
	return 0;
}

static void __exit sr_bugs_exit(void)
{
}

module_init(sr_bugs_init);
module_exit(sr_bugs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("simple_remap tests: bugs for KASAN and lockdep to report");
