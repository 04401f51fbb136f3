// File-system calls the file-copy service needs that Swift cannot call directly: openat2 and
// renameat2 have no (or no exported) glibc wrapper, and open/openat with O_TMPFILE are variadic.
// Each returns -1 and sets errno on failure, like the system call it wraps.
#ifndef CFILECOPY_H
#define CFILECOPY_H

/// openat2(dirfd, path, {O_RDONLY|O_DIRECTORY|O_CLOEXEC, resolve: RESOLVE_NO_SYMLINKS|
/// RESOLVE_NO_MAGICLINKS}): a directory reached without following any symbolic link.
/// ENOSYS when the kernel has no openat2 (before 5.6).
int hvfc_openat2_directory(int dirfd, const char *path);

/// openat(dirfd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC): one component, no symlink.
int hvfc_open_directory_nofollow(int dirfd, const char *name);

/// openat(dirfd, ".", O_TMPFILE|O_RDWR|O_CLOEXEC, mode): an unnamed file in the directory.
int hvfc_open_tmpfile(int dirfd, unsigned int mode);

/// openat(dirfd, name, O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode).
int hvfc_create_exclusive(int dirfd, const char *name, unsigned int mode);

/// Gives an O_TMPFILE descriptor the name `name` in `dirfd`: linkat through /proc/self/fd
/// (AT_SYMLINK_FOLLOW), or with AT_EMPTY_PATH when /proc is not mounted. EEXIST if taken.
int hvfc_link_tmpfile(int fd, int dirfd, const char *name);

/// renameat2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE).
int hvfc_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname);

#endif
