/* SPDX-License-Identifier: GPL-2.0 */
/* Host shim: lock-free singly linked lists. */
#ifndef _SHIM_LINUX_LLIST_H
#define _SHIM_LINUX_LLIST_H

#include <linux/kernel.h>

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

static inline void init_llist_head(struct llist_head *head)
{
	head->first = NULL;
}

/* Return: true if the list was empty. */
static inline bool llist_add_batch(struct llist_node *new_first,
				   struct llist_node *new_last,
				   struct llist_head *head)
{
	struct llist_node *first = __atomic_load_n(&head->first,
						   __ATOMIC_RELAXED);

	do {
		new_last->next = first;
	} while (!__atomic_compare_exchange_n(&head->first, &first, new_first,
					      false, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	return !first;
}

static inline bool llist_add(struct llist_node *new, struct llist_head *head)
{
	return llist_add_batch(new, new, head);
}

static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	return __atomic_exchange_n(&head->first, NULL, __ATOMIC_ACQ_REL);
}

static inline bool llist_empty(const struct llist_head *head)
{
	return !__atomic_load_n(&head->first, __ATOMIC_RELAXED);
}

#define llist_entry(ptr, type, member)	container_of(ptr, type, member)

#define llist_for_each_entry_safe(pos, n, node, member)			\
	for (pos = (node) ? llist_entry(node, __typeof__(*pos), member) : NULL; \
	     pos && ((n = pos->member.next ?				\
		      llist_entry(pos->member.next, __typeof__(*n), member) : \
		      NULL), 1);					\
	     pos = n)

#endif
