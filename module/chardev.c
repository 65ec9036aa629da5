// SPDX-License-Identifier: GPL-2.0
/*
 * shpt: /dev/shpt, the control device.  The ioctls are defined in
 * include/uapi/linux/shpt.h; the work is done behind mirror.h (mirror.c,
 * access.c, index.c, snapshot.c, verify.c).
 *
 * Who may open the device and attach: Documentation/access.rst.  Every
 * errno a caller can cause, and the order in which the checks run, are
 * in the one errno table, Documentation/usage.rst ("Errors").
 */
#define pr_fmt(fmt) "shpt-chardev: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/shpt.h>

#include "mirror.h"
#include "shpt.h"

/**
 * struct shpt_file - one open /dev/shpt
 * @owner: owns the mirrors attached through this file; closing the file
 *	detaches them
 */
struct shpt_file {
	struct shpt_mirror_owner owner;
};

static int shpt_open(struct inode *inode, struct file *file)
{
	struct shpt_file *f;

	/*
	 * Root only unless allow_user=1, whatever mode the node was given
	 * (an admin's chmod alone does not open the device up).
	 */
	if (!shpt_config.allow_user && !capable(CAP_SYS_PTRACE))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	shpt_mirror_owner_init(&f->owner);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int shpt_release(struct inode *inode, struct file *file)
{
	struct shpt_file *f = file->private_data;

	shpt_mirror_detach_owner(&f->owner);
	kfree(f);
	return 0;
}

/*
 * Read an argument struct whose first field is its __u32 size.  Every
 * ioctl is _IOWR, so the struct must also be writable: rewriting the size
 * the caller put there checks that before anything is done.
 */
static int shpt_get_arg(void *karg, size_t ksize, void __user *uarg)
{
	u32 size;

	if (get_user(size, (u32 __user *)uarg) ||
	    put_user(size, (u32 __user *)uarg))
		return -EFAULT;
	if (size != ksize)
		return -EINVAL;
	if (copy_from_user(karg, uarg, ksize))
		return -EFAULT;
	return 0;
}

static long shpt_ioc_attach(struct shpt_file *f, void __user *uarg)
{
	struct shpt_attach a;
	int ret;

	ret = shpt_get_arg(&a, sizeof(a), uarg);
	if (ret)
		return ret;
	if (a.flags & ~SHPT_ATTACH_POPULATE || a.__pad)
		return -EINVAL;
	ret = shpt_mirror_attach(a.pid, a.flags, &f->owner, &a.asid);
	if (ret)
		return ret;
	if (put_user(a.asid, &((struct shpt_attach __user *)uarg)->asid)) {
		/* The caller cannot learn the ASID: undo. */
		shpt_mirror_detach(a.asid, &f->owner);
		return -EFAULT;
	}
	return 0;
}

static long shpt_ioc_detach(struct shpt_file *f, void __user *uarg)
{
	struct shpt_detach d;
	int ret;

	ret = shpt_get_arg(&d, sizeof(d), uarg);
	if (ret)
		return ret;
	if (d.flags)
		return -EINVAL;
	return shpt_mirror_detach(d.asid, &f->owner);
}

/*
 * PFNs are shown as /proc/PID/pagemap shows them, to CAP_SYS_ADMIN only,
 * and both the opener of the file (pagemap's rule: a privileged fd handed
 * to someone else) and the caller (a root-opened fd used after dropping
 * privileges) must have it.
 */
static bool shpt_may_see_pfn(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN) &&
	       capable(CAP_SYS_ADMIN);
}

static long shpt_ioc_lookup(struct file *file, struct shpt_file *f,
			    void __user *uarg)
{
	const unsigned int known = SHPT_LOOKUP_NOFILL | SHPT_LOOKUP_FAULT;
	struct shpt_lookup_result *res;
	struct shpt_lookup l;
	u64 *addrs;
	int ret;

	ret = shpt_get_arg(&l, sizeof(l), uarg);
	if (ret)
		return ret;
	if (l.flags & ~known || (l.flags & known) == known || l.__pad)
		return -EINVAL;
	if (!l.count)
		return -EINVAL;
	if (l.count > SHPT_LOOKUP_MAX)
		return -E2BIG;

	addrs = kvmalloc_array(l.count, sizeof(*addrs), GFP_KERNEL);
	res = kvcalloc(l.count, sizeof(*res), GFP_KERNEL);
	ret = -ENOMEM;
	if (!addrs || !res)
		goto out_free;
	ret = -EFAULT;
	if (copy_from_user(addrs, u64_to_user_ptr(l.addrs),
			   l.count * sizeof(*addrs)))
		goto out_free;
	/* Fail a bad @results before any fill or fault has happened. */
	if (clear_user(u64_to_user_ptr(l.results), l.count * sizeof(*res)))
		goto out_free;
	ret = shpt_mirror_lookup(l.asid, &f->owner, addrs, res, l.count,
				 l.flags, shpt_may_see_pfn(file));
	if (ret)
		goto out_free;
	if (copy_to_user(u64_to_user_ptr(l.results), res,
			 l.count * sizeof(*res)))
		ret = -EFAULT;
out_free:
	kvfree(res);
	kvfree(addrs);
	return ret;
}

static long shpt_ioc_range(struct shpt_file *f, void __user *uarg,
			   bool verify)
{
	struct shpt_range_result r = {};
	struct shpt_range_op op;
	int ret;

	ret = shpt_get_arg(&op, sizeof(op), uarg);
	if (ret)
		return ret;
	if (op.flags)
		return -EINVAL;
	if (verify)
		ret = shpt_mirror_verify(op.asid, &f->owner, op.start, op.end,
					 &r);
	else
		ret = shpt_mirror_populate(op.asid, &f->owner, op.start,
					   op.end, &r);
	if (ret)
		return ret;
	op.checked = r.checked;
	op.stale = r.stale;
	op.missing = r.missing;
	op.inserted = r.inserted;
	op.retries = r.retries;
	if (copy_to_user(uarg, &op, sizeof(op)))
		return -EFAULT;
	return 0;
}

static long shpt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct shpt_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case SHPT_IOC_ATTACH:
		return shpt_ioc_attach(f, uarg);
	case SHPT_IOC_DETACH:
		return shpt_ioc_detach(f, uarg);
	case SHPT_IOC_LOOKUP:
		return shpt_ioc_lookup(file, f, uarg);
	case SHPT_IOC_POPULATE:
		return shpt_ioc_range(f, uarg, false);
	case SHPT_IOC_VERIFY:
		return shpt_ioc_range(f, uarg, true);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations shpt_fops = {
	.owner		= THIS_MODULE,
	.open		= shpt_open,
	.release	= shpt_release,
	.unlocked_ioctl	= shpt_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= no_llseek,
};

/* The mode is set by shpt_chardev_init(), from allow_user. */
static struct miscdevice shpt_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "shpt",
	.fops	= &shpt_fops,
};

/**
 * shpt_chardev_init() - register /dev/shpt
 *
 * The node is created 0600 (root only), or 0666 with allow_user=1; udev
 * rules may change its mode and group afterwards.
 *
 * Return: 0, or the errno of misc_register().
 */
int shpt_chardev_init(void)
{
	int err;

	/* Root only by default; allow_user=1 opens the node to everyone. */
	shpt_miscdev.mode = shpt_config.allow_user ? 0666 : 0600;
	err = misc_register(&shpt_miscdev);
	if (err)
		pr_err("cannot register /dev/%s: %d\n", shpt_miscdev.name, err);
	return err;
}

/**
 * shpt_chardev_exit() - unregister /dev/shpt
 *
 * The module reference taken by each open file keeps this from running
 * while a file is open.
 */
void shpt_chardev_exit(void)
{
	misc_deregister(&shpt_miscdev);
}
