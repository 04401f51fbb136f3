import CFileCopy
#if canImport(Glibc)
import Glibc
#endif

/// Opens a destination directory without following any symbolic link (docs/COMPATIBILITY.md F4),
/// optionally creating what is missing with a fixed mode.
///
/// openat2(RESOLVE_NO_SYMLINKS) resolves the whole path in one call; when a directory has to be
/// created, or the kernel has no openat2, the path is walked one component at a time with
/// O_NOFOLLOW|O_DIRECTORY, which refuses a symlink in any component just the same.
enum SafeDirectory {
    /// A descriptor (O_RDONLY|O_DIRECTORY, so it can be fsync'd) for `/` + components.
    static func open(_ components: [String], create: Bool, policy: FileCopyPolicy) throws(FileCopyError) -> Int32 {
        let path = "/" + components.joined(separator: "/")
        if policy.useOpenat2 {
            let fd = hvfc_openat2_directory(AT_FDCWD, path)
            if fd >= 0 { return fd }
            let code = errno
            switch code {
            case ENOSYS, EPERM, EINVAL:
                break  // no openat2 (or a seccomp filter refusing it): walk instead
            case ENOENT where create:
                break
            default:
                throw .system("openat2 \(path)", errno: code)
            }
        }
        return try walk(components, create: create, mode: policy.directoryMode, display: path)
    }

    private static func walk(_ components: [String], create: Bool, mode: UInt32, display: String) throws(FileCopyError) -> Int32 {
        var fd = hvfc_open_directory_nofollow(AT_FDCWD, "/")
        guard fd >= 0 else { throw .system("open /", errno: errno) }
        for component in components {
            var next = hvfc_open_directory_nofollow(fd, component)
            if next < 0 && errno == ENOENT && create {
                if mkdirat(fd, component, mode_t(mode)) == 0 {
                    next = hvfc_open_directory_nofollow(fd, component)
                    // The umask narrowed mkdir's mode; the directory is ours, so set it exactly.
                    if next >= 0 && fchmod(next, mode_t(mode)) != 0 {
                        let code = errno
                        close(next)
                        close(fd)
                        throw .system("fchmod \(component)", errno: code)
                    }
                } else if errno == EEXIST {
                    next = hvfc_open_directory_nofollow(fd, component)
                } else {
                    let code = errno
                    close(fd)
                    throw .system("mkdir \(component) in \(display)", errno: code)
                }
            }
            if next < 0 {
                let code = errno
                close(fd)
                throw .system("open \(component) in \(display)", errno: code)
            }
            close(fd)
            fd = next
        }
        return fd
    }
}
