import HVSystem

#if canImport(Glibc)
import Glibc
#endif

/// Whole-file locking that excludes *every* known pool writer.
///
/// hv_kvp_daemon and Microsoft's samples use POSIX `fcntl` record locks;
/// cloud-init and azure-init use BSD `flock`.  On Linux the two kinds do not
/// see each other (docs/PROTOCOL.md §7.15, docs/COMPATIBILITY.md B3), so we hold both.  They are always
/// taken in the same order (flock, then fcntl); the other programs take only
/// one kind each, so no wait cycle can form.
///
/// Waiting is bounded: a program that holds a lock forever must not make us
/// miss the kernel's 30-second reply deadline (docs/COMPATIBILITY.md P2: the daemon
/// blocks in F_SETLKW without a timeout).  We poll with non-blocking tries
/// and a growing sleep (1 ms → 50 ms), which costs nothing when uncontended
/// and is never a busy loop.
enum FileLock {
    /// Takes both locks on `fd`.  `exclusive` = writer (LOCK_EX + F_WRLCK),
    /// otherwise reader (LOCK_SH + F_RDLCK, which works on O_RDONLY files).
    static func acquire(fd: Int32, path: String, exclusive: Bool, timeout: Double) throws {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let end = Double(deadline.tv_sec) + Double(deadline.tv_nsec) / 1e9 + timeout
        try wait(path: path, end: end, timeout: timeout) {
            flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)
        }
        do {
            try wait(path: path, end: end, timeout: timeout) {
                var fl = flock()
                fl.l_type = Int16(exclusive ? F_WRLCK : F_RDLCK)
                fl.l_whence = Int16(SEEK_SET)
                fl.l_start = 0
                fl.l_len = 0
                return fcntl(fd, F_SETLK, &fl)
            }
        } catch {
            _ = flock(fd, LOCK_UN)
            throw error
        }
    }

    /// Releases both locks (fcntl first: reverse order of acquisition).
    static func release(fd: Int32) {
        var fl = flock()
        fl.l_type = Int16(F_UNLCK)
        fl.l_whence = Int16(SEEK_SET)
        fl.l_start = 0
        fl.l_len = 0
        _ = fcntl(fd, F_SETLK, &fl)
        _ = flock(fd, LOCK_UN)
    }

    /// `attempt` is one non-blocking try: 0 when it got the lock, -1 with errno otherwise.
    private static func wait(path: String, end: Double, timeout: Double, _ attempt: () -> Int32) throws {
        var sleepMicros: UInt32 = 1_000
        while true {
            if retryingOnInterrupt(attempt) == 0 { return }
            let failure = Errno.current
            // F_SETLK may report a conflicting lock as EACCES instead of EAGAIN.
            guard failure == .resourceTemporarilyUnavailable || failure == .permissionDenied else {
                throw PoolError.system(operation: "lock", path: path, errno: failure)
            }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 >= end {
                throw PoolError.lockTimeout(path: path, seconds: timeout)
            }
            usleep(sleepMicros)
            sleepMicros = min(sleepMicros * 2, 50_000)
        }
    }
}
