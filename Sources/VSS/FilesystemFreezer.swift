import HVSystem
#if canImport(Glibc)
import Glibc
#endif

/// FIFREEZE and FITHAW on a mount point (docs/PROTOCOL.md §6.5.7): the ioctls take any descriptor
/// on the filesystem; a directory opened read-only is what hv_vss_daemon and qemu-ga use.
public protocol FilesystemFreezer: Sendable {
    /// The plan to freeze. `local` builds it from this process's view of the mounts; a freezer
    /// working elsewhere (the freeze helper, which alone can see the devices) answers its own, the
    /// same one it will check each FIFREEZE against.
    func plan(local: () -> FreezePlan) throws(SystemCallError) -> FreezePlan
    func freeze(_ mountPoint: String) -> FreezeResult
    func thaw(_ mountPoint: String) -> ThawResult
}

extension FilesystemFreezer {
    public func plan(local: () -> FreezePlan) throws(SystemCallError) -> FreezePlan { local() }
}

public enum FreezeResult: Hashable, Sendable {
    case frozen
    /// EBUSY: the superblock is already frozen (by someone else, or through another mount):
    /// hvagent does not record it and will never thaw it (COMPATIBILITY.md V10).
    case alreadyFrozen
    /// EOPNOTSUPP: the filesystem cannot freeze; skipped and reported (V6).
    case unsupported
    /// Anything else, with errno: the whole FREEZE is rolled back.
    case failed(Int32)
}

public enum ThawResult: Hashable, Sendable {
    case thawed
    /// EINVAL: not frozen (any more).
    case notFrozen
    case failed(Int32)
}

/// The real ioctls. Mount points are opened under `rootPrefix` (`/proc/1/root` to reach the
/// initial mount namespace from a unit with its own, docs/PROTOCOL.md §6.5.7).
public struct IoctlFilesystemFreezer: FilesystemFreezer {
    /// `_IOWR('X', 119, int)` and `_IOWR('X', 120, int)`.
    public static let fifreeze: UInt = 0xC004_5877
    public static let fithaw: UInt = 0xC004_5878

    public var rootPrefix: String

    public init(rootPrefix: String = "") {
        self.rootPrefix = rootPrefix
    }

    public func freeze(_ mountPoint: String) -> FreezeResult {
        switch ioctl(Self.fifreeze, on: mountPoint) {
        case 0: .frozen
        case EBUSY: .alreadyFrozen
        case EOPNOTSUPP: .unsupported
        case let error: .failed(error)
        }
    }

    public func thaw(_ mountPoint: String) -> ThawResult {
        switch ioctl(Self.fithaw, on: mountPoint) {
        case 0: .thawed
        case EINVAL: .notFrozen
        case let error: .failed(error)
        }
    }

    /// 0 or the errno of open/ioctl. O_NOFOLLOW-free on purpose: the mount point is the kernel's.
    private func ioctl(_ request: UInt, on mountPoint: String) -> Int32 {
        let fd = open(rootPrefix + mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var zero: Int32 = 0
        return retryingOnInterrupt { Glibc.ioctl(fd, request, &zero) } == 0 ? 0 : errno
    }
}
