#define _GNU_SOURCE
#include "CHVSupport.h"

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/mman.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHV_MAX_FDS 8

int chv_memfd_create(const char *name, int allow_sealing)
{
	return memfd_create(name, MFD_CLOEXEC | (allow_sealing ? MFD_ALLOW_SEALING : 0));
}

int chv_eventfd(int nonblocking)
{
	return eventfd(0, EFD_CLOEXEC | (nonblocking ? EFD_NONBLOCK : 0));
}

long chv_send_with_fds(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	if (nfds < 0 || nfds > CHV_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	union {
		char raw[CMSG_SPACE(sizeof(int) * CHV_MAX_FDS)];
		struct cmsghdr align;
	} ctrl;
	memset(&ctrl, 0, sizeof ctrl);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > 0) {
		msg.msg_control = ctrl.raw;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	ssize_t n;
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return (long)n;
}

long chv_recv_with_fds(int sock, void *buf, size_t len, int *fds, int max_fds, int *nfds, int *truncated)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union {
		char raw[CMSG_SPACE(sizeof(int) * CHV_MAX_FDS)];
		struct cmsghdr align;
	} ctrl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.raw,
			      .msg_controllen = sizeof ctrl.raw };
	*nfds = 0;
	*truncated = 0;
	ssize_t n;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		*truncated = 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
			if (*nfds < max_fds)
				fds[(*nfds)++] = fd;
			else
				close(fd); /* never leak what we cannot hand on */
		}
	}
	return (long)n;
}

int chv_pin_current_thread(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

int chv_current_cpu(void)
{
	return sched_getcpu();
}

int chv_signalfd(const int *signals, int count)
{
	sigset_t set;
	sigemptyset(&set);
	for (int i = 0; i < count; i++)
		sigaddset(&set, signals[i]);
	int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int chv_signalfd_read(int fd)
{
	struct signalfd_siginfo info;
	ssize_t n;
	do {
		n = read(fd, &info, sizeof info);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof info)
		return -1;
	return (int)info.ssi_signo;
}

int chv_uevent_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int chv_timerfd(void)
{
	return timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
}

int chv_timerfd_set(int fd, unsigned long long first_us, unsigned long long interval_us)
{
	struct itimerspec spec;
	spec.it_interval.tv_sec = (time_t)(interval_us / 1000000ull);
	spec.it_interval.tv_nsec = (long)(interval_us % 1000000ull) * 1000;
	spec.it_value.tv_sec = (time_t)(first_us / 1000000ull);
	spec.it_value.tv_nsec = (long)(first_us % 1000000ull) * 1000;
	return timerfd_settime(fd, 0, &spec, NULL);
}

int chv_peer_credentials(int fd, int *pid, unsigned int *uid)
{
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0)
        return -1;
    *pid = credentials.pid;
    *uid = credentials.uid;
    return 0;
}

struct chv_release_state {
	long bytes;
	int error;
};

static int chv_release_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	struct chv_release_state *state = data;
	if (info->dlpi_name && info->dlpi_name[0])
		return 0; /* a shared library: the main executable is the entry with an empty name */
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		/* whole pages only: a page shared with a neighbouring segment is left alone */
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		uintptr_t lo = (start + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
		uintptr_t hi = (start + ph->p_memsz) & ~((uintptr_t)page - 1);
		if (hi <= lo)
			continue;
		if (madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0) {
			state->error = errno;
			return 1;
		}
		state->bytes += (long)(hi - lo);
	}
	return 1; /* the main executable comes first; nothing else to visit */
}

long chv_release_readonly_image_pages(void)
{
	struct chv_release_state state = { 0, 0 };
	dl_iterate_phdr(chv_release_segments, &state);
	if (state.error) {
		errno = state.error;
		return -1;
	}
	return state.bytes;
}

int chv_epoll_create(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

int chv_epoll_watch(int epfd, int op, int fd, uint64_t token)
{
	struct epoll_event event = { .events = EPOLLIN | (op == 2 ? EPOLLET : 0), .data.u64 = token };
	if (op == 1)
		return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &event);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &event);
}

int chv_epoll_wait(int epfd, uint64_t *tokens, uint32_t *events, int max, int timeout_ms)
{
	struct epoll_event ready[64];
	if (max > 64)
		max = 64;
	int count = epoll_wait(epfd, ready, max, timeout_ms);
	for (int i = 0; i < count; i++) {
		tokens[i] = ready[i].data.u64;
		events[i] = ready[i].events;
	}
	return count;
}
