import HVSystem
import CFileCopy
#if canImport(Glibc)
import Glibc
#endif

/// One copy in progress: the unnamed (or hidden) file the data goes to, in the target's own
/// directory, until COMPLETE gives it its name (docs/COMPATIBILITY.md F2, F3).
///
/// A class so that whatever ends it — CANCEL, a new START, NEGOTIATE, the channel closing, the
/// agent stopping — releases it through `deinit`: an O_TMPFILE file vanishes with its descriptor
/// (even when the agent is killed), a hidden-name file is unlinked.
final class FileCopyTransfer {
    /// Destination directory (O_RDONLY|O_DIRECTORY), kept open so the target cannot be swapped
    /// by renaming a parent.
    let directory: Int32
    let leaf: String
    /// For logs: the full destination path.
    let path: String
    let overwrite: Bool
    let fileSize: UInt64
    private var file: Int32
    /// Set when O_TMPFILE was unavailable and the data went to a hidden name instead.
    private let hiddenName: String?
    private(set) var bytesWritten: UInt64 = 0
    private var finished = false

    init(directory: Int32, leaf: String, path: String, overwrite: Bool, fileSize: UInt64, mode: UInt32,
         unnamed: Bool = true) throws(FileCopyError) {
        var file = unnamed ? hvfc_open_tmpfile(directory, mode) : -1
        var hidden: String?
        if file < 0 {
            let code = unnamed ? errno : EOPNOTSUPP
            // EOPNOTSUPP: the file system has no O_TMPFILE; EISDIR/EINVAL: the kernel predates it.
            guard code == EOPNOTSUPP || code == EISDIR || code == EINVAL else {
                throw .system("O_TMPFILE in \(path)", errno: code)
            }
            for _ in 0..<8 {
                let name = Self.hiddenName()
                file = hvfc_create_exclusive(directory, name, mode)
                if file >= 0 {
                    hidden = name
                    break
                }
                if errno != EEXIST { break }
            }
            guard file >= 0 else { throw .system("create temporary file in \(path)", errno: errno) }
        }
        // The umask narrowed the creation mode; the file is ours, so set it exactly (F7).
        if fchmod(file, mode_t(mode)) != 0 {
            let code = errno
            close(file)
            if let hidden { unlinkat(directory, hidden, 0) }
            throw .system("fchmod", errno: code)
        }
        self.directory = directory
        self.leaf = leaf
        self.path = path
        self.overwrite = overwrite
        self.fileSize = fileSize
        self.file = file
        hiddenName = hidden
    }

    deinit {
        discard()
        close(directory)
    }

    /// `.hvagent-fcopy-` and 16 random hex digits.
    private static func hiddenName() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let digits = String(value, radix: 16)
        return ".hvagent-fcopy-" + String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Writes one chunk at its offset, all of it (short writes continue; EINTR retries).
    func write(_ data: ArraySlice<UInt8>, at offset: UInt64) throws(FileCopyError) {
        guard !finished else { throw .refused("write after the copy ended") }
        var done = 0
        let count = data.count
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            while done < count {
                let n = retryingOnInterrupt { pwrite(file, raw.baseAddress.map { $0 + done }, count - done, off_t(offset) + off_t(done)) }
                if n > 0 {
                    done += n
                } else {
                    failure = n < 0 ? errno : ENOSPC  // a zero-byte write makes no progress: out of space
                    return
                }
            }
        }
        if failure != 0 {
            if failure == ENOSPC || failure == EDQUOT {
                throw .diskFull("\(path) at offset \(offset + UInt64(done))")
            }
            throw .system("write \(path)", errno: failure)
        }
        bytesWritten += UInt64(count)
    }

    /// fsync the data, give the file its name, fsync the directory (F8). Without OVER_WRITE an
    /// existing name is never replaced (the link or RENAME_NOREPLACE fails: ALREADY_EXISTS); with
    /// it only a regular file is replaced, atomically.
    func publish() throws(FileCopyError) {
        guard !finished else { throw .refused("the copy already ended") }
        guard fsync(file) == 0 else { throw .system("fsync \(path)", errno: errno) }
        if overwrite {
            try checkReplaceable()
            let staged: String
            if let hiddenName {
                staged = hiddenName
            } else {
                staged = try linkHidden()
            }
            if renameat(directory, staged, directory, leaf) != 0 {
                let code = errno
                if hiddenName == nil { unlinkat(directory, staged, 0) }
                throw .system("rename to \(path)", errno: code)
            }
        } else if let hiddenName {
            if hvfc_rename_noreplace(directory, hiddenName, directory, leaf) != 0 {
                let code = errno
                if code == EEXIST { throw .alreadyExists(path) }
                // A file system without RENAME_NOREPLACE: link (fails on an existing name), unlink.
                guard code == EINVAL || code == ENOSYS else { throw .system("rename to \(path)", errno: code) }
                guard linkat(directory, hiddenName, directory, leaf, 0) == 0 else {
                    let linkCode = errno
                    if linkCode == EEXIST { throw .alreadyExists(path) }
                    throw .system("link \(path)", errno: linkCode)
                }
                unlinkat(directory, hiddenName, 0)
            }
        } else if hvfc_link_tmpfile(file, directory, leaf) != 0 {
            let code = errno
            if code == EEXIST { throw .alreadyExists(path) }
            throw .system("link \(path)", errno: code)
        }
        finished = true
        close(file)
        file = -1
        guard fsync(directory) == 0 else { throw .system("fsync directory of \(path)", errno: errno) }
    }

    /// Drops the data: the unnamed file goes with its descriptor, a hidden one is unlinked.
    func discard() {
        guard !finished else { return }
        finished = true
        close(file)
        file = -1
        if let hiddenName { unlinkat(directory, hiddenName, 0) }
    }

    /// With OVER_WRITE, only a regular file (or nothing) may be at the name (F4).
    private func checkReplaceable() throws(FileCopyError) {
        var info = stat()
        if fstatat(directory, leaf, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else { throw .refused("\(path) exists and is not a regular file") }
        } else if errno != ENOENT {
            throw .system("stat \(path)", errno: errno)
        }
    }

    /// Names the unnamed file with a hidden name, for the atomic rename over an existing file.
    private func linkHidden() throws(FileCopyError) -> String {
        for _ in 0..<8 {
            let name = Self.hiddenName()
            if hvfc_link_tmpfile(file, directory, name) == 0 { return name }
            if errno != EEXIST { break }
        }
        throw .system("link temporary name in \(path)", errno: errno)
    }
}
