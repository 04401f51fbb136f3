#ifndef HVAGENT_CPROCESS_H
#define HVAGENT_CPROCESS_H
#include <spawn.h>
#include <sys/types.h>

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+), which Swift's Glibc module does not
/// export: close every descriptor >= low in the child. Returns 0 or an errno value.
int cprocess_addclosefrom(posix_spawn_file_actions_t *actions, int low);

/// pidfd_open(2) (Linux 5.3+): a close-on-exec descriptor that becomes readable when `pid` exits,
/// so a child's end can be polled like any other input. -1 with errno (ENOSYS on older kernels).
int cprocess_pidfd_open(pid_t pid);

/// pipe2(O_CLOEXEC), which Swift's Glibc module does not export, with O_NONBLOCK on the read end
/// only: no other helper inherits either end, the reader never blocks, the writer (a helper's
/// stderr) does. Returns 0, or -1 with errno.
int cprocess_capture_pipe(int fds[2]);

#endif
