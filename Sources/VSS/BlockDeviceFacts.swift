import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the freeze planner asks the system about a mount source, behind a protocol so the rules
/// are tested on made-up systems and the real one is only read.
public protocol BlockDeviceFacts {
    /// The device number of `source` when it is a block device (stat → S_ISBLK), else nil.
    func blockDevice(_ source: String) -> (major: UInt32, minor: UInt32)?
    /// The device is a loop device, or sits (through `slaves/`, e.g. LVM or dm-crypt) on one.
    func isLoopBacked(major: UInt32, minor: UInt32) -> Bool
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

    public func isLoopBacked(major: UInt32, minor: UInt32) -> Bool {
        loopBacked(directory: "\(sysfs)/dev/block/\(major):\(minor)", depth: 0)
    }

    /// hv_vss_daemon's `is_dev_loop`: `<dir>/loop` exists, or any `<dir>/slaves/*` is loop-backed.
    /// Bounded depth: sysfs is not supposed to loop, but a bound costs nothing.
    private func loopBacked(directory: String, depth: Int) -> Bool {
        guard depth < 16 else { return false }
        if access(directory + "/loop", F_OK) == 0 { return true }
        guard let slaves = try? FileManager.default.contentsOfDirectory(atPath: directory + "/slaves") else { return false }
        return slaves.contains { loopBacked(directory: directory + "/slaves/" + $0, depth: depth + 1) }
    }

    public func isISCSI(major: UInt32, minor: UInt32) -> Bool {
        guard let resolved = realpath("\(sysfs)/dev/block/\(major):\(minor)", nil) else { return false }
        defer { free(resolved) }
        return String(cString: resolved).split(separator: "/").contains { $0.hasPrefix("session") && $0.dropFirst(7).allSatisfy(\.isNumber) }
    }
}
