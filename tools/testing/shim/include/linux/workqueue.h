/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host shim: one worker thread runs every queued work item in FIFO order.
 * A work item is never queued twice and never runs concurrently with
 * itself, as in the kernel.
 */
#ifndef _SHIM_LINUX_WORKQUEUE_H
#define _SHIM_LINUX_WORKQUEUE_H

#include <linux/kernel.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	work_func_t func;
	struct work_struct *next;	/* queue link; shim lock */
	bool pending;			/* shim lock */
};

struct workqueue_struct;
extern struct workqueue_struct *system_wq;
extern struct workqueue_struct *system_unbound_wq;

#define INIT_WORK(w, f) do {		\
	(w)->func = (f);		\
	(w)->next = NULL;		\
	(w)->pending = false;		\
} while (0)

bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
bool flush_work(struct work_struct *work);
bool cancel_work_sync(struct work_struct *work);

#endif
