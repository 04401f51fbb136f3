/*
 * hvvss_shim.c - LD_PRELOAD shim that runs a Hyper-V VSS daemon (Debian's
 * /usr/sbin/hv_vss_daemon, or `hvagent run` in kernel mode) without Hyper-V
 * and without ever freezing a filesystem the test did not create.
 *
 * Environment (all set by vss_diff.py):
 *
 *   HV_VSS_SOCKET=PATH   open()/openat() (and the _FORTIFY_SOURCE __open_2
 *       family) of /dev/vmbus/hv_vss returns an AF_UNIX SOCK_SEQPACKET socket
 *       connected to PATH, served by vss_kernel_emu.py.  SEQPACKET keeps the
 *       char device's one message per read()/write().
 *
 *   HV_VSS_ALLOW_DEV="M:m,M:m,..."   SAFETY.  FIFREEZE and FITHAW pass
 *       through to the kernel only on a descriptor whose st_dev is listed.
 *       Any other is refused with EPERM, reported on stderr and in the trace
 *       as REFUSED.  Unset or empty: every FIFREEZE/FITHAW is refused.  This
 *       machine's / is a real disk: a FIFREEZE of it would hang the machine.
 *
 *   HV_VSS_TRACE=FILE    one line per FIFREEZE/FITHAW, appended with
 *       O_APPEND: "<pid> FIFREEZE|FITHAW <path> <M:m> <0|errno name>".
 *       Must be on tmpfs (it is written while test filesystems are frozen).
 *
 *   HV_VSS_MOUNTS=FILE   setmntent("/proc/mounts") opens FILE instead: the
 *       daemon sees only the test's own mounts (hv_vss_daemon freezes every
 *       /dev/-sourced read-write mount it sees, / included).
 *
 *   HV_VSS_NOT_LOOP="M:m,..."   access("/sys/dev/block/M:m/loop") fails with
 *       ENOENT for these devices: the test's filesystems live on loop
 *       devices (no brd here), which hv_vss_daemon's is_dev_loop() would
 *       skip.  Both daemons get the same view.
 *
 *   HV_VSS_FAIL_FILE=FILE   fault injection: before each FIFREEZE the file is
 *       read; a line "M:m ERRNO" (ERRNO a number) makes the FIFREEZE of that
 *       device fail with that errno instead of reaching the kernel.
 *
 * openlog() gets LOG_PERROR so hv_vss_daemon's syslog lines reach stderr.
 *
 * Original harness code; it contains no code from the kernel or hyperv-daemons.
 */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define VSS_DEVICE "/dev/vmbus/hv_vss"
#define FIFREEZE_REQ 0xC0045877UL
#define FITHAW_REQ 0xC0045878UL

static void *next_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p) {
		fprintf(stderr, "[hvvss_shim] dlsym(%s) failed\n", name);
		abort();
	}
	return p;
}

static int is_vss_device(const char *path)
{
	return path && getenv("HV_VSS_SOCKET") && strcmp(path, VSS_DEVICE) == 0;
}

static int open_vss_socket(int flags)
{
	const char *sock_path = getenv("HV_VSS_SOCKET");
	struct sockaddr_un sa;
	int fd, err;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | ((flags & O_CLOEXEC) ? SOCK_CLOEXEC : 0), 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (flags & O_NONBLOCK)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Is "M:m" in the comma-separated list held by environment variable `var`? */
static int dev_listed(const char *var, unsigned int maj, unsigned int min)
{
	const char *list = getenv(var);
	char want[32];
	size_t n;
	const char *p;

	if (!list || !*list)
		return 0;
	n = (size_t)snprintf(want, sizeof(want), "%u:%u", maj, min);
	for (p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

/* PARAMS: the real signature; the rest: the arguments before the mode, passed on. */
#define OPEN_WRAPPER(NAME, PARAMS, ...)                                      \
	int NAME PARAMS                                                      \
	{                                                                    \
		static __typeof__(NAME) *real;                               \
		va_list ap;                                                  \
		mode_t mode;                                                 \
		if (!real)                                                   \
			real = next_sym(#NAME);                              \
		va_start(ap, flags);                                         \
		mode = mode_arg(flags, ap);                                  \
		va_end(ap);                                                  \
		if (is_vss_device(path))                                     \
			return open_vss_socket(flags);                       \
		return real(__VA_ARGS__, mode);                              \
	}
OPEN_WRAPPER(open, (const char *path, int flags, ...), path, flags)
OPEN_WRAPPER(open64, (const char *path, int flags, ...), path, flags)
OPEN_WRAPPER(openat, (int dirfd, const char *path, int flags, ...), dirfd, path, flags)
OPEN_WRAPPER(openat64, (int dirfd, const char *path, int flags, ...), dirfd, path, flags)

#define OPEN2_WRAPPER(NAME)                                                  \
	int NAME(const char *path, int flags)                                \
	{                                                                    \
		static int (*real)(const char *, int);                       \
		if (!real)                                                   \
			real = next_sym(#NAME);                              \
		if (is_vss_device(path))                                     \
			return open_vss_socket(flags);                       \
		return real(path, flags);                                    \
	}
OPEN2_WRAPPER(__open_2)
OPEN2_WRAPPER(__open64_2)

FILE *setmntent(const char *file, const char *mode)
{
	static FILE *(*real)(const char *, const char *);
	const char *mounts = getenv("HV_VSS_MOUNTS");

	if (!real)
		real = next_sym("setmntent");
	if (file && strcmp(file, "/proc/mounts") == 0 && mounts && *mounts)
		file = mounts;
	return real(file, mode);
}

int access(const char *path, int amode)
{
	static int (*real)(const char *, int);
	unsigned int maj, min;
	int used = 0;

	if (!real)
		real = next_sym("access");
	if (sscanf(path, "/sys/dev/block/%u:%u/loop%n", &maj, &min, &used) == 2 &&
	    used > 0 && path[used] == '\0' && dev_listed("HV_VSS_NOT_LOOP", maj, min)) {
		errno = ENOENT;
		return -1;
	}
	return real(path, amode);
}

void openlog(const char *ident, int option, int facility)
{
	static void (*real)(const char *, int, int);

	if (!real)
		real = next_sym("openlog");
	real(ident, option | LOG_PERROR, facility);
}

/* Raw write of one trace line (no stdio: this runs while filesystems are frozen). */
static void trace(const char *what, int fd, const struct stat *st, int rc_errno)
{
	const char *file = getenv("HV_VSS_TRACE");
	char path[PATH_MAX], proc[64], line[PATH_MAX + 128];
	ssize_t n;
	int tfd, len;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, path, sizeof(path) - 1);
	path[n < 0 ? 0 : n] = '\0';
	len = snprintf(line, sizeof(line), "%d %s %s %u:%u %s\n", (int)getpid(), what, path,
		       st ? major(st->st_dev) : 0, st ? minor(st->st_dev) : 0,
		       rc_errno < 0 ? "REFUSED" : rc_errno == 0 ? "0" : strerrorname_np(rc_errno));
	if (rc_errno < 0)
		(void)!write(2, line, (size_t)len);
	if (!file || !*file)
		return;
	tfd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (tfd < 0)
		return;
	(void)!write(tfd, line, (size_t)len);
	close(tfd);
}

/* The injected errno for this device's FIFREEZE, or 0. */
static int injected_failure(const struct stat *st)
{
	const char *file = getenv("HV_VSS_FAIL_FILE");
	char buf[256];
	unsigned int maj, min;
	int err, fd;
	ssize_t n;
	char *line;

	if (!file || !*file)
		return 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (sscanf(line, "%u:%u %d", &maj, &min, &err) == 3 &&
		    maj == major(st->st_dev) && min == minor(st->st_dev))
			return err;
	}
	return 0;
}

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	const char *what;
	struct stat st;
	va_list ap;
	void *arg;
	int rc, err;

	if (!real)
		real = next_sym("ioctl");
	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request != FIFREEZE_REQ && request != FITHAW_REQ)
		return real(fd, request, arg);
	what = request == FIFREEZE_REQ ? "FIFREEZE" : "FITHAW";
	if (fstat(fd, &st) != 0 || !dev_listed("HV_VSS_ALLOW_DEV", major(st.st_dev), minor(st.st_dev))) {
		fprintf(stderr, "[hvvss_shim] REFUSED %s on a filesystem outside HV_VSS_ALLOW_DEV\n", what);
		trace(what, fd, NULL, -1);
		errno = EPERM;
		return -1;
	}
	if (request == FIFREEZE_REQ && (err = injected_failure(&st)) != 0) {
		trace(what, fd, &st, err);
		errno = err;
		return -1;
	}
	rc = real(fd, request, arg);
	err = rc == 0 ? 0 : errno;
	trace(what, fd, &st, err);
	errno = err;
	return rc;
}
