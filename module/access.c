// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: who may attach to a process.
 *
 * Seeing another process's layout and frames is what ptrace and
 * /proc/PID/pagemap guard, so ATTACH is checked like mm_access(task,
 * PTRACE_MODE_READ_FSCREDS), rebuilt from exported symbols because 6.1
 * exports neither mm_access() nor ptrace_may_access().  Two differences,
 * both stricter: capabilities count only in the initial user namespace,
 * and the same-user rule applies only with allow_user=1.  The LSM hook
 * (security_ptrace_access_check(): Yama, SELinux, AppArmor) is not
 * exported and is not consulted.  Documentation/access.rst is the
 * reference for the rule.
 *
 * Locks: none of DOC: Lock rules (mirror_internal.h).  This runs before
 * the mirror exists, in process context, and takes only the target's
 * signal->exec_update_lock for reading, as mm_access() does.
 */
#define pr_fmt(fmt) "shpt-access: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/uidgid.h>

#include "mirror_internal.h"
#include "shpt.h"

/*
 * ptrace_has_cap(ns) asks for CAP_SYS_PTRACE in the target's or its mm's
 * user namespace.  Anyone is root of a user namespace it creates, so here
 * only the initial one counts; it is the ancestor of every namespace, so
 * this implies ptrace_has_cap() for whichever namespace ptrace would ask.
 */
static bool shpt_has_ptrace_cap(void)
{
	return capable(CAP_SYS_PTRACE);
}

/* __ptrace_may_access()'s id rule, with PTRACE_MODE_FSCREDS. */
static bool shpt_same_ids(const struct cred *cred, const struct cred *tcred)
{
	return uid_eq(cred->fsuid, tcred->euid) &&
	       uid_eq(cred->fsuid, tcred->suid) &&
	       uid_eq(cred->fsuid, tcred->uid) &&
	       gid_eq(cred->fsgid, tcred->egid) &&
	       gid_eq(cred->fsgid, tcred->sgid) &&
	       gid_eq(cred->fsgid, tcred->gid);
}

/*
 * __ptrace_may_access(@task, PTRACE_MODE_READ_FSCREDS), line by line, for
 * @mm, the task's mm taken under its exec_update_lock (held for read).
 */
static int shpt_may_access(struct task_struct *task, struct mm_struct *mm)
{
	bool same;

	rcu_read_lock();
	same = shpt_config.allow_user &&
	       shpt_same_ids(current_cred(), __task_cred(task));
	rcu_read_unlock();
	if (!same && !shpt_has_ptrace_cap())
		return -EPERM;
	/*
	 * Read dumpability after the creds, or a task that drops privileges
	 * and becomes non-dumpable could be seen with the new creds but the
	 * old dumpability.  Pairs with the smp_wmb() in commit_creds().
	 */
	smp_rmb();
	if (get_dumpable(mm) != SUID_DUMP_USER && !shpt_has_ptrace_cap())
		return -EPERM;
	return 0;
}

/*
 * mm_access(): an exec swaps the mm, then the creds, with exec_update_lock
 * held for write; holding it for read makes the mm and the creds checked
 * belong to the same image.
 */
static struct mm_struct *shpt_target_mm(struct task_struct *task,
					bool check_perm)
{
	struct mm_struct *mm;
	int err;

	err = down_read_killable(&task->signal->exec_update_lock);
	if (err)
		return ERR_PTR(err);
	mm = get_task_mm(task);
	if (!mm)
		err = -ESRCH;
	else if (check_perm)
		err = shpt_may_access(task, mm);
	up_read(&task->signal->exec_update_lock);
	if (err) {
		if (mm)
			mmput(mm);
		return ERR_PTR(err);
	}
	return mm;
}

/**
 * shpt_mirror_find_target() - find the task and mm to attach to
 * @pid: the target's pid
 * @check_perm: apply the attach rule (Documentation/access.rst); false for
 *	the pid= module parameter, whose loader is root
 * @taskp: out: the task, referenced
 * @mmp: out: its mm, with an mmget
 *
 * Return: 0 with both references taken, or a user-visible errno: -ESRCH
 * (no task, or it is exiting or has no mm), -EINVAL (a kernel thread),
 * -EINTR (killed while waiting for the target's exec to finish), -EPERM
 * (the attach rule refused).
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
	mm = shpt_target_mm(task, check_perm);
	if (IS_ERR(mm)) {
		ret = PTR_ERR(mm);
		goto out_put_task;
	}
	*taskp = task;
	*mmp = mm;
	return 0;

out_put_task:
	put_task_struct(task);
	return ret;
}
