// SPDX-License-Identifier: MIT
/*
 * LD_PRELOAD shim that runs Linux's unmodified hv_fcopy_uio_daemon against hvagent's simulated
 * host (`hvagent sim-host`) instead of uio_hv_generic.
 *
 * It redirects only what the daemon touches of the device (read tools/hv/hv_fcopy_uio_daemon.c,
 * tools/hv/vmbus_bufring.c; docs/PROTOCOL.md §3.2-§3.7 for uio_hv_generic, §6.6 for file copy),
 * and behaves as uio_hv_generic of the daemon's own kernel (6.12 with b15b7d2a1b09, §3.5):
 *   - sysfs: opendir/stat under /sys/bus/vmbus/devices/eb765408-…/ go to a private directory that
 *     holds channels/<relid>/ring (size = both rings, as the kernel's `ring` attribute) and
 *     uio/uio0/ (the uio name);
 *   - open("/dev/uio0") connects to the simulator (HVAGENT_SIM_SOCKET), takes the file-copy offer
 *     (memfd with both rings laid out like uio map 0 + the two eventfds), resets the rings as the
 *     kernel's open does (indices 0, feature_bits 1; interrupt_mask and pending_send_sz left as
 *     they are), reports `opened`, and returns the memfd, so the daemon's
 *     mmap(2 * ring_size, offset 0) maps map 0 exactly;
 *   - mmap of that descriptor: only map 0 (offset 0) exists, as under uio;
 *   - read/pread of it (the interrupt wait): blocks until the host->guest eventfd fires and
 *     returns the 4-byte event count (the kernel's callback only notifies; it no longer masks);
 *     EIO once the host rescinds or goes away, as after a rescind;
 *   - write of it (uio irqcontrol): inbound mask = !value, and for 1 signals the host through the
 *     guest->host eventfd (vmbus_setevent: file copy has no monitor page);
 *   - close of it: reports `closed`.
 * Everything else passes through untouched. The simulator's control messages (48 bytes,
 * SOCK_SEQPACKET, descriptors by SCM_RIGHTS) are described in Sources/SimTransport/SimControlMessage.swift.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEVICE_DIR "/sys/bus/vmbus/devices/eb765408-105f-49b6-b4aa-c123b64d17d4"
#define UIO_NODE "/dev/uio0"
#define MSG_SIZE 48
#define MAGIC 0x4D535648u
#define KIND_OFFER 1
#define KIND_RESCIND 2
#define KIND_OPENED 3
#define KIND_CLOSED 4
/* Offsets in a ring's header page (struct vmbus_bufring / hv_ring_buffer). */
#define RING_WINDEX 0
#define RING_RINDEX 4
#define RING_IMASK 8
#define RING_FEATURES 64

/* 34d14be3-dee4-41c8-9ae7-6b174977c192 (file copy's class) in wire order. */
static const uint8_t fcopy_class[16] = {0xe3, 0x4b, 0xd1, 0x34, 0xe4, 0xde, 0xc8, 0x41,
					0x9a, 0xe7, 0x6b, 0x17, 0x49, 0x77, 0xc1, 0x92};

static int sock_fd = -1, mem_fd = -1, h2g_fd = -1, g2h_fd = -1, uio_fd = -1;
static uint32_t ring_size, header_size;
static uint8_t offer_msg[MSG_SIZE];
static uint8_t *rings; /* the shim's own mapping of both rings */
static char fake_dir[256];

static void die(const char *what)
{
	fprintf(stderr, "fcopy uio shim: %s (%s)\n", what, strerror(errno));
	_exit(97);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static ssize_t recv_message(uint8_t *buf, int *fds, int *nfds)
{
	char ctrl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {.iov_base = buf, .iov_len = MSG_SIZE};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof(ctrl)};
	ssize_t n;

	do {
		n = recvmsg(sock_fd, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (*nfds > 4)
				*nfds = 4;
			memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)*nfds);
		}
	}
	return n;
}

static void send_kind(uint16_t kind)
{
	uint8_t msg[MSG_SIZE];

	memcpy(msg, offer_msg, MSG_SIZE);
	msg[6] = (uint8_t)kind;
	msg[7] = 0;
	memset(msg + 40, 0, 8);
	if (send(sock_fd, msg, MSG_SIZE, MSG_NOSIGNAL) != MSG_SIZE)
		die("send control message");
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		die(path);
}

/* Connects and waits for the file-copy offer; other offers are dropped (their descriptors closed). */
static void take_offer(void)
{
	const char *path = getenv("HVAGENT_SIM_SOCKET");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char file[512];
	int fds[4], nfds;

	if (sock_fd >= 0)
		return;
	if (!path || strlen(path) >= sizeof(addr.sun_path)) {
		errno = EINVAL;
		die("HVAGENT_SIM_SOCKET unset or too long");
	}
	strcpy(addr.sun_path, path);
	sock_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock_fd < 0 || connect(sock_fd, (struct sockaddr *)&addr, sizeof(addr)))
		die("connect to the simulated host");
	for (;;) {
		uint8_t msg[MSG_SIZE];
		ssize_t n = recv_message(msg, fds, &nfds);

		if (n <= 0)
			die("the simulated host went away before offering file copy");
		if (n != MSG_SIZE || le32(msg) != MAGIC)
			die("malformed control message");
		if (msg[6] == KIND_OFFER && nfds == 3 && !memcmp(msg + 8, fcopy_class, 16)) {
			memcpy(offer_msg, msg, MSG_SIZE);
			mem_fd = fds[0];
			h2g_fd = fds[1];
			g2h_fd = fds[2];
			ring_size = le32(msg + 40);
			header_size = le32(msg + 44);
			break;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
	}
	/* The daemon's struct vmbus_bufring is exactly one 4 KiB page of header. */
	if (header_size != 4096 || ring_size <= header_size || ring_size > (1u << 30)) {
		errno = EINVAL;
		die("file-copy offer with a ring layout the daemon cannot map");
	}
	rings = mmap(NULL, 2 * (size_t)ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
	if (rings == MAP_FAILED)
		die("mmap of the offered rings");

	/* The sysfs the daemon reads: channels/<relid>/ring (both rings) and uio/uio0. */
	const char *base = getenv("HVAGENT_SHIM_DIR");
	snprintf(fake_dir, sizeof(fake_dir), "%s/%s", base ? base : "/tmp", "fcopy-sysfs-XXXXXX");
	if (!mkdtemp(fake_dir))
		die("mkdtemp");
	snprintf(file, sizeof(file), "%s/channels", fake_dir);
	make_dir(file);
	snprintf(file, sizeof(file), "%s/channels/14", fake_dir);
	make_dir(file);
	snprintf(file, sizeof(file), "%s/uio", fake_dir);
	make_dir(file);
	snprintf(file, sizeof(file), "%s/uio/uio0", fake_dir);
	make_dir(file);
	snprintf(file, sizeof(file), "%s/channels/14/ring", fake_dir);
	int ring_file = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ring_file < 0 || ftruncate(ring_file, 2 * (off_t)ring_size))
		die("ring attribute file");
	close(ring_file);
}

/* The device directory's path redirected into the private one; NULL for any other path. */
static const char *redirect(const char *path, char *out, size_t size)
{
	size_t n = strlen(DEVICE_DIR);

	if (!path || strncmp(path, DEVICE_DIR, n) || (path[n] && path[n] != '/'))
		return NULL;
	take_offer();
	snprintf(out, size, "%s%s", fake_dir, path + n);
	return out;
}

#define NEXT(name) static __typeof__(name) *real_##name; if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

DIR *opendir(const char *path)
{
	char buf[512];
	const char *to = redirect(path, buf, sizeof(buf));
	NEXT(opendir);
	return real_opendir(to ? to : path);
}

int stat(const char *path, struct stat *st)
{
	char buf[512];
	const char *to = redirect(path, buf, sizeof(buf));
	NEXT(stat);
	return real_stat(to ? to : path, st);
}

int stat64(const char *path, struct stat64 *st)
{
	char buf[512];
	const char *to = redirect(path, buf, sizeof(buf));
	NEXT(stat64);
	return real_stat64(to ? to : path, st);
}

/* What the kernel's open of /dev/uioN does for uio_hv_generic (hv_uio_open -> vmbus_connect_ring):
 * indices zeroed, feature_bits = 1 (pending_send_sz supported), then OPEN, which makes the host
 * negotiate. */
static int open_uio(void)
{
	take_offer();
	for (int i = 0; i < 2; i++) {
		uint8_t *h = rings + (size_t)i * ring_size;
		__atomic_store_n((uint32_t *)(h + RING_WINDEX), 0u, __ATOMIC_SEQ_CST);
		__atomic_store_n((uint32_t *)(h + RING_RINDEX), 0u, __ATOMIC_SEQ_CST);
		__atomic_store_n((uint32_t *)(h + RING_FEATURES), 1u, __ATOMIC_SEQ_CST);
	}
	uio_fd = fcntl(mem_fd, F_DUPFD_CLOEXEC, 0);
	if (uio_fd < 0)
		return -1;
	send_kind(KIND_OPENED);
	return uio_fd;
}

static int open_common(const char *path, int flags, mode_t mode, int (*real)(const char *, int, ...))
{
	char buf[512];
	const char *to;

	if (path && !strcmp(path, UIO_NODE))
		return open_uio();
	to = redirect(path, buf, sizeof(buf));
	return real(to ? to : path, flags, mode);
}

/* open and open64: the mode argument exists only with O_CREAT or O_TMPFILE. */
#define OPEN_WRAPPER(name)                                          \
	int name(const char *path, int flags, ...)                  \
	{                                                           \
		mode_t mode = 0;                                    \
		va_list ap;                                         \
		NEXT(name);                                         \
		va_start(ap, flags);                                \
		if (flags & (O_CREAT | __O_TMPFILE))                \
			mode = va_arg(ap, mode_t);                  \
		va_end(ap);                                         \
		return open_common(path, flags, mode, real_##name); \
	}
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	NEXT(mmap);
	if (fd >= 0 && fd == uio_fd && (off != 0 || len > 2 * (size_t)ring_size)) {
		errno = EINVAL; /* uio_hv_generic's map 0 is the rings, nothing more */
		return MAP_FAILED;
	}
	return real_mmap(addr, len, prot, flags, fd, off);
}

/* The interrupt wait: the event count as a 4-byte read, as uio returns it. */
static ssize_t wait_interrupt(void *buf, size_t count)
{
	static uint32_t events;
	uint64_t value;
	ssize_t n;

	if (count != sizeof(uint32_t)) {
		errno = EINVAL;
		return -1;
	}
	/* The simulator's eventfds are non-blocking; a uio read blocks until the next interrupt, and
	 * fails with EIO once the channel is rescinded (here: the host sent a rescind or went away). */
	for (;;) {
		struct pollfd p[2] = {{.fd = h2g_fd, .events = POLLIN}, {.fd = sock_fd, .events = POLLIN}};

		n = read(h2g_fd, &value, sizeof(value));
		if (n == sizeof(value))
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents) {
			errno = EIO;
			return -1;
		}
	}
	events += (uint32_t)value;
	memcpy(buf, &events, sizeof(events));
	return sizeof(events);
}

ssize_t read(int fd, void *buf, size_t count)
{
	NEXT(read);
	if (fd >= 0 && fd == uio_fd)
		return wait_interrupt(buf, count);
	return real_read(fd, buf, count);
}

ssize_t pread(int fd, void *buf, size_t count, off_t off)
{
	NEXT(pread);
	if (fd >= 0 && fd == uio_fd)
		return wait_interrupt(buf, count);
	return real_pread(fd, buf, count, off);
}

ssize_t pread64(int fd, void *buf, size_t count, off64_t off)
{
	NEXT(pread64);
	if (fd >= 0 && fd == uio_fd)
		return wait_interrupt(buf, count);
	return real_pread64(fd, buf, count, off);
}

/* hv_uio_irqcontrol: inbound interrupt_mask = !state; non-zero also signals the host
 * (unconditionally: file copy has no monitor page). */
ssize_t write(int fd, const void *buf, size_t count)
{
	NEXT(write);
	if (fd >= 0 && fd == uio_fd) {
		int32_t state;
		uint64_t one = 1;

		if (count != sizeof(state)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(&state, buf, sizeof(state));
		__atomic_store_n((uint32_t *)(rings + ring_size + RING_IMASK), state ? 0u : 1u, __ATOMIC_SEQ_CST);
		if (state && real_write(g2h_fd, &one, sizeof(one)) != sizeof(one))
			return -1;
		return (ssize_t)count;
	}
	return real_write(fd, buf, count);
}

int close(int fd)
{
	NEXT(close);
	if (fd >= 0 && fd == uio_fd) {
		send_kind(KIND_CLOSED);
		uio_fd = -1;
	}
	return real_close(fd);
}
