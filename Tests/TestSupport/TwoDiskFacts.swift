import VSS
#if canImport(Glibc)
import Glibc
#endif

/// Two block-device filesystems, `/` (8:1) and `/data` (8:2), and a tmpfs: the plan is
/// `/data`, then `/`.
public struct TwoDiskFacts: BlockDeviceFacts {
    public static let mountInfo = """
        20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
        21 20 8:2 / /data rw,relatime - xfs /dev/sdb1 rw
        22 20 0:5 / /run rw - tmpfs tmpfs rw

        """

    public init() {}

    public func blockDevice(_ source: String) -> (major: UInt32, minor: UInt32)? {
        switch source {
        case "/dev/sda1": (8, 1)
        case "/dev/sdb1": (8, 2)
        default: nil
        }
    }
    public func loopBackingFilesystems(major: UInt32, minor: UInt32) -> [String]? { nil }
    public func isISCSI(major: UInt32, minor: UInt32) -> Bool { false }
}

extension FreezeProcedure {
    /// A procedure over ``TwoDiskFacts`` (mountinfo written into `directory`) and `freezer`, with
    /// the hooks in `directory/hooks`.
    public static func twoDisks(in directory: String, freezer: any FilesystemFreezer, freezeTimeoutSeconds: Double = 10) -> FreezeProcedure {
        let mountInfo = directory + "/mountinfo"
        let fd = open(mountInfo, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = Array(TwoDiskFacts.mountInfo.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        mkdir(directory + "/hooks", 0o755)
        return FreezeProcedure(mountInfoPath: mountInfo, rules: FreezePlan.Rules(),
                               hooks: VSSHookRunner(directory: directory + "/hooks", timeoutSeconds: 5),
                               freezeTimeoutSeconds: freezeTimeoutSeconds, frozenList: FrozenList(path: directory + "/frozen"),
                               freezer: freezer, facts: { TwoDiskFacts() })
    }
}
