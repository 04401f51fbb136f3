// Thin C helpers for what Swift cannot import from glibc directly: the cmsg macros used to pass
// file descriptors (SCM_RIGHTS), CPU_SET for pinning, and the memfd/eventfd wrappers whose headers
// are not part of the Glibc module on every toolchain. Each function returns -1 and sets errno on
// failure, like the system call it wraps.
#ifndef CHVSUPPORT_H
#define CHVSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// memfd_create(name, MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0)).
int chv_memfd_create(const char *name, int allow_sealing);

/// eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0)).
int chv_eventfd(int nonblocking);

/// sendmsg() of `len` bytes with `nfds` descriptors attached as SCM_RIGHTS (nfds <= 8).
/// Returns the bytes sent.
long chv_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds);

/// recvmsg() into `buf`; received descriptors go to fds (at most max_fds, <= 8) and their count
/// to *nfds. Descriptors beyond max_fds are closed. MSG_CMSG_CLOEXEC is set.
/// Returns the bytes received (0 = peer closed). *truncated is set when the message or its
/// control data did not fit.
long chv_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max_fds, int *nfds, int *truncated);

/// Pins the calling thread to one CPU. Returns 0 or an errno value.
int chv_pin_current_thread(int cpu);

/// The CPU the calling thread runs on now, or -1.
int chv_current_cpu(void);

/// A NETLINK_KOBJECT_UEVENT socket bound to the kernel's uevent group (non-blocking, close-on-exec).
int chv_uevent_socket(void);

/// A CLOCK_MONOTONIC timerfd (non-blocking, close-on-exec), disarmed.
int chv_timerfd(void);

/// Arms `fd` to fire after `first_us`, then every `interval_us` (0: once); `first_us` 0 disarms.
int chv_timerfd_set(int fd, unsigned long long first_us, unsigned long long interval_us);

/// signalfd(-1, set of `signals`, SFD_CLOEXEC | SFD_NONBLOCK) after blocking those signals for the
/// calling thread (pthread_sigmask). Returns the descriptor.
int chv_signalfd(const int *signals, int count);

/// Reads one signal from a signalfd: its number, or -1 (EAGAIN when none is pending).
int chv_signalfd_read(int fd);

/// The peer of a connected Unix socket (SO_PEERCRED, which needs _GNU_SOURCE for struct ucred):
/// 0 with *pid and *uid set, or -1 with errno.
int chv_peer_credentials(int fd, int *pid, unsigned int *uid);

/// madvise(MADV_DONTNEED) over every whole page of the main executable's read-only load segments
/// (PT_LOAD without PF_W: code, read-only data, Swift metadata), so this process stops mapping
/// the clean file pages start-up touched; a later access maps them again from the page cache.
/// Writable segments (data, RELRO, bss) are never touched. Returns the bytes advised, or -1 with
/// errno.
long chv_release_readonly_image_pages(void);

/// epoll_create1(EPOLL_CLOEXEC): Swift's Glibc module does not export <sys/epoll.h>.
int chv_epoll_create(void);

/// epoll_ctl(2) for EPOLLIN with `token` as the event's data: `op` 0 adds level-triggered (and
/// modifies when `fd` is already in the set), 2 the same edge-triggered (EPOLLET), 1 removes.
/// Returns 0, or -1 with errno.
int chv_epoll_watch(int epfd, int op, int fd, uint64_t token);

/// epoll_wait(2) for at most `max` (<= 64) events: each ready member's token goes to `tokens` and
/// its event mask (EPOLLIN, EPOLLERR, EPOLLHUP: the same bits as poll(2)'s) to `events`.
/// Returns the count, or -1 with errno.
int chv_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms);

#endif
