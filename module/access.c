// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: who may attach to a process.
 *
 * Seeing another process's layout and frames is what ptrace and
 * /proc/PID/pagemap guard.  The rule: CAP_SYS_PTRACE in the target's user
 * namespace, or, with allow_user=1, the uid half of ptrace's rule (same
 * real, effective and saved uids and gids, and a dumpable mm).
 * ptrace_may_access() is not exported to modules, so the LSM ptrace hook
 * (Yama, SELinux) is not consulted.
 *
 * Locks: none of DOC: Lock rules (mirror_internal.h); this runs before the
 * mirror exists, in process context, and holds only references (task, mm,
 * creds).
 */
#define pr_fmt(fmt) "shpt-access: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/moduleparam.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/uidgid.h>

#include "mirror_internal.h"

static bool shpt_allow_user;
module_param_named(allow_user, shpt_allow_user, bool, 0644);
MODULE_PARM_DESC(allow_user,
		 "let a caller without CAP_SYS_PTRACE attach to its own dumpable processes (same real, effective and saved uids and gids); LSM ptrace policy is not consulted (default 0)");

/* The uid half of ptrace's rule: same ids throughout, and dumpable. */
static bool shpt_same_user(const struct cred *c, const struct cred *t,
			   struct mm_struct *mm)
{
	return uid_eq(c->uid, t->uid) && uid_eq(c->uid, t->euid) &&
	       uid_eq(c->uid, t->suid) && uid_eq(c->euid, c->uid) &&
	       uid_eq(c->suid, c->uid) && gid_eq(c->gid, t->gid) &&
	       gid_eq(c->gid, t->egid) && gid_eq(c->gid, t->sgid) &&
	       gid_eq(c->egid, c->gid) && gid_eq(c->sgid, c->gid) &&
	       get_dumpable(mm) == SUID_DUMP_USER;
}

static int shpt_may_attach(struct task_struct *task, struct mm_struct *mm)
{
	const struct cred *tcred = get_task_cred(task);
	int ret = -EPERM;

	if (ns_capable(tcred->user_ns, CAP_SYS_PTRACE))
		ret = 0;
	else if (READ_ONCE(shpt_allow_user) &&
		 shpt_same_user(current_cred(), tcred, mm))
		ret = 0;
	put_cred(tcred);
	return ret;
}

/**
 * shpt_mirror_find_target() - find the task and mm to attach to
 * @pid: the target's pid
 * @check_perm: apply the attach rule (shpt_may_attach()); false for the
 *	pid= module parameter, whose loader is root
 * @taskp: out: the task, referenced
 * @mmp: out: its mm, with an mmget
 *
 * Return: 0 with both references taken, or a user-visible errno: -ESRCH
 * (no task, or it is exiting or has no mm), -EINVAL (a kernel thread),
 * -EPERM (the attach rule refused).
 */
int shpt_mirror_find_target(struct pid *pid, bool check_perm,
			    struct task_struct **taskp, struct mm_struct **mmp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	int ret;

	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task)
		return -ESRCH;
	ret = -EINVAL;
	if (task->flags & PF_KTHREAD)
		goto out_put_task;
	ret = -ESRCH;
	if (task->flags & PF_EXITING)
		goto out_put_task;
	mm = get_task_mm(task);
	if (!mm)
		goto out_put_task;
	ret = check_perm ? shpt_may_attach(task, mm) : 0;
	if (ret)
		goto out_put_mm;
	*taskp = task;
	*mmp = mm;
	return 0;

out_put_mm:
	mmput(mm);
out_put_task:
	put_task_struct(task);
	return ret;
}
