/// What the configuration allows Copy-VMFile to do (docs/COMPATIBILITY.md, "File copy").
///
/// The host is not trusted (it may be compromised, and on some VMs it is the adversary), so the
/// destination is confined by policy rather than by whatever path the host names.
public struct FileCopyPolicy: Sendable, Hashable {
    /// Absolute directories a destination must lie in (or be); empty allows any absolute path.
    /// Entries that are not absolute or contain `..` are ignored (the configuration check reports
    /// them).
    public var allowedRoots: [String]
    /// Mode of every file written, whatever the umask (Linux's 0744 made copies executable, F7).
    public var fileMode: UInt32 = 0o644
    /// Mode of every directory CREATE_PATH makes, whatever the umask.
    public var directoryMode: UInt32 = 0o755
    /// Refuse a START whose file_size exceeds the free space of the target's file system (F13).
    public var preflightFreeSpace = true
    /// Resolve directories with openat2(RESOLVE_NO_SYMLINKS) first; false walks component by
    /// component with O_NOFOLLOW only (what kernels before 5.6 get; tests exercise both).
    public var useOpenat2 = true
    /// Write into an unnamed O_TMPFILE file; false uses a hidden name and renameat2 (what file
    /// systems without O_TMPFILE get; tests exercise both).
    public var useTmpfile = true

    public init(allowedRoots: [String] = []) {
        self.allowedRoots = allowedRoots
    }

    /// The allowed roots as path components (valid entries only).
    var rootComponents: [[String]] {
        allowedRoots.compactMap { root in
            guard root.hasPrefix("/") else { return nil }
            let parts = root.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
            return parts.contains("..") ? nil : parts
        }
    }

    /// Whether a destination directory (components from `/`) lies in an allowed root.
    func allows(directory: [String]) -> Bool {
        let roots = rootComponents
        if allowedRoots.isEmpty { return true }
        return roots.contains { root in directory.count >= root.count && Array(directory.prefix(root.count)) == root }
    }
}
