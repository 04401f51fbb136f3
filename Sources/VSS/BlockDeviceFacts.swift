import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the freeze planner asks the system about a mount source, behind a protocol so the rules
/// are tested on made-up systems and the real one is only read.
public protocol BlockDeviceFacts {
    /// The device number of `source` when it is a block device (stat → S_ISBLK), else nil.
    func blockDevice(_ source: String) -> (major: UInt32, minor: UInt32)?
    /// For a loop device, or one that sits (through `slaves/`, e.g. LVM or dm-crypt) on loop
    /// devices: the `MAJ:MIN` of the filesystem holding each backing file ("?" when that cannot be
    /// told, e.g. a deleted file). Nil when no loop device is underneath.
    func loopBackingFilesystems(major: UInt32, minor: UInt32) -> [String]?
    /// The device is a disk on an iSCSI transport (its sysfs path runs through a `sessionN`).
    func isISCSI(major: UInt32, minor: UInt32) -> Bool
}

/// Reads `/dev` through `stat` and `/sys/dev/block` (docs/PROTOCOL.md §6.5.7).
public struct SystemBlockDeviceFacts: BlockDeviceFacts {
    /// Prepended to a mount source (`/proc/1/root` to resolve it in the initial mount namespace).
    public var rootPrefix: String
    public var sysfs: String

    public init(rootPrefix: String = "", sysfs: String = "/sys") {
        self.rootPrefix = rootPrefix
        self.sysfs = sysfs
    }

    public func blockDevice(_ source: String) -> (major: UInt32, minor: UInt32)? {
        guard source.hasPrefix("/") else { return nil }
        var st = stat()
        guard stat(rootPrefix + source, &st) == 0, (st.st_mode & S_IFMT) == S_IFBLK else { return nil }
        // glibc's gnu_dev_major/minor (sys/sysmacros.h), which Swift does not import.
        let rdev = UInt64(st.st_rdev)
        let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~UInt64(0xfff))
        let minor = (rdev & 0xff) | ((rdev >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
    }

    public func loopBackingFilesystems(major: UInt32, minor: UInt32) -> [String]? {
        var found: [String] = []
        collectLoops(directory: "\(sysfs)/dev/block/\(major):\(minor)", depth: 0, into: &found)
        return found.isEmpty ? nil : found
    }

    /// hv_vss_daemon's `is_dev_loop` walk: `<dir>/loop` exists, or any `<dir>/slaves/*` is
    /// loop-backed; here each loop's `backing_file` is also resolved to its filesystem. Bounded
    /// depth: sysfs is not supposed to loop, but a bound costs nothing.
    private func collectLoops(directory: String, depth: Int, into found: inout [String]) {
        guard depth < 16 else { return }
        if access(directory + "/loop", F_OK) == 0 {
            found.append(backingFilesystem(directory + "/loop/backing_file"))
        }
        guard let slaves = try? FileManager.default.contentsOfDirectory(atPath: directory + "/slaves") else { return }
        for slave in slaves { collectLoops(directory: directory + "/slaves/" + slave, depth: depth + 1, into: &found) }
    }

    private func backingFilesystem(_ attribute: String) -> String {
        guard let text = try? String(contentsOfFile: attribute, encoding: .utf8) else { return "?" }
        let path = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        var st = stat()
        guard path.hasPrefix("/"), !path.hasSuffix(" (deleted)"), stat(rootPrefix + path, &st) == 0 else { return "?" }
        let dev = UInt64(st.st_dev)
        return "\(((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))):\((dev & 0xff) | ((dev >> 12) & ~UInt64(0xff)))"
    }

    public func isISCSI(major: UInt32, minor: UInt32) -> Bool {
        guard let resolved = realpath("\(sysfs)/dev/block/\(major):\(minor)", nil) else { return false }
        defer { free(resolved) }
        return String(cString: resolved).split(separator: "/").contains { $0.hasPrefix("session") && $0.dropFirst(7).allSatisfy(\.isNumber) }
    }
}
