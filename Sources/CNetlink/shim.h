// CNetlink: the parts of libnl-3 / libnl-route-3 that NetInfo uses.
// The library does the rtnetlink parsing and keeps caches current from multicast notifications;
// Swift only reads the objects it hands back.
#ifndef HVAGENT_CNETLINK_SHIM_H
#define HVAGENT_CNETLINK_SHIM_H

#include <netlink/netlink.h>
#include <netlink/errno.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/object.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/nexthop.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
/* Not libnl, but NetInfo's only other C need: Glibc's Swift module does not export epoll, which
   folds the netlink socket and the host-name watch into one descriptor for the caller. */
#include <sys/epoll.h>

/// Cache-manager change actions (libnl's NL_ACT_* enum), re-exported as plain ints for Swift.
static inline int cnl_act_new(void) { return NL_ACT_NEW; }
static inline int cnl_act_del(void) { return NL_ACT_DEL; }
static inline int cnl_act_change(void) { return NL_ACT_CHANGE; }

/// NL_AUTO_PROVIDE: caches added to the manager become visible to nl_cache_mngt_require_safe().
static inline int cnl_auto_provide(void) { return NL_AUTO_PROVIDE; }

#endif
