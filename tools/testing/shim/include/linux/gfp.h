/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_GFP_H
#define _SHIM_LINUX_GFP_H

#include <linux/types.h>

#define __GFP_ZERO		0x100u
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_HIGH		0x20u
#define __GFP_NOWARN		0x2000u
#define GFP_KERNEL	(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_NOWAIT	(__GFP_KSWAPD_RECLAIM)
#define GFP_ATOMIC	(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)

static inline bool gfpflags_allow_blocking(const gfp_t gfp)
{
	return gfp & __GFP_DIRECT_RECLAIM;
}

#endif
