import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Which filesystems a FREEZE freezes, in which order, and which it leaves alone and why
/// (docs/PROTOCOL.md §6.5.7; COMPATIBILITY.md VSS rows).
public struct FreezePlan: Hashable, Sendable, Codable {
    /// A filesystem to freeze: one per superblock.
    public struct Target: Hashable, Sendable, Codable {
        public var mountPoint: String
        /// mountinfo's MAJ:MIN of the superblock (the deduplication key).
        public var device: String
        public var filesystemType: String
        public var source: String

        public init(mountPoint: String, device: String, filesystemType: String, source: String) {
            self.mountPoint = mountPoint
            self.device = device
            self.filesystemType = filesystemType
            self.source = source
        }
    }

    /// A mount left alone, with the reason doctor and the log give.
    public struct Skip: Hashable, Sendable, Codable {
        public var mountPoint: String
        public var source: String
        public var reason: String
    }

    /// Children before parents (reverse mount order), so `/` comes last.
    public var targets: [Target]
    public var skipped: [Skip]

    /// What the planner is told besides the mounts.
    public struct Rules: Sendable {
        /// Mount sources (fnmatch patterns) never frozen; the word `iscsi` means every iSCSI disk.
        public var excludeDevices: [String]
        public var excludeFilesystemTypes: [String]
        /// If not empty, only mount points equal to or under one of these may be frozen (the
        /// guard the real-freeze tests and the demo rely on).
        public var onlyUnder: [String]

        public init(excludeDevices: [String] = ["/dev/nbd*", "/dev/longhorn/*", "iscsi"],
                    excludeFilesystemTypes: [String] = ["vfat"], onlyUnder: [String] = []) {
            self.excludeDevices = excludeDevices
            self.excludeFilesystemTypes = excludeFilesystemTypes
            self.onlyUnder = onlyUnder
        }
    }

    /// Builds the plan from mountinfo entries in file order.
    ///
    /// Per superblock (MAJ:MIN, major 0 included: btrfs subvolumes) the first eligible mount in
    /// reverse order is the one frozen; later mounts of it are not listed at all (freezing the
    /// superblock once freezes every mount of it).
    public static func make(mounts: [MountInfoEntry], rules: Rules, facts: some BlockDeviceFacts) -> FreezePlan {
        var targets: [Target] = []
        var candidates: [(target: Target, backing: [String]?)] = []
        var skipped: [Skip] = []
        var seen: Set<String> = []
        // The guard also refuses a superblock that is visible elsewhere (a bind mount of `/` under
        // a test directory must not freeze `/`).
        let outside: Set<String> = rules.onlyUnder.isEmpty ? [] : Set(mounts.filter { entry in
            !rules.onlyUnder.contains(where: { isUnder(entry.mountPoint, $0) })
        }.map(\.device))
        for entry in mounts.reversed() {
            let skip = { (reason: String) in skipped.append(Skip(mountPoint: entry.mountPoint, source: entry.source, reason: reason)) }
            guard let device = facts.blockDevice(entry.source) else {
                // tmpfs, proc, overlay, NFS, FUSE: nothing on a block device to flush (and nothing
                // worth a line in the log, only_under or not).
                continue
            }
            if !rules.onlyUnder.isEmpty, !rules.onlyUnder.contains(where: { isUnder(entry.mountPoint, $0) }) {
                skip("outside only_under")
                continue
            }
            if seen.contains(entry.device) { continue }
            if outside.contains(entry.device) {
                skip("also mounted outside only_under")
                continue
            }
            if entry.superblockReadOnly {
                skip("read-only")
                continue
            }
            if rules.excludeFilesystemTypes.contains(entry.filesystemType) {
                skip("filesystem type \(entry.filesystemType) excluded")
                continue
            }
            if let pattern = rules.excludeDevices.first(where: { matches($0, entry.source, facts: facts, device: device) }) {
                skip("excluded by \(pattern)")
                continue
            }
            seen.insert(entry.device)
            candidates.append((Target(mountPoint: entry.mountPoint, device: entry.device, filesystemType: entry.filesystemType,
                                      source: entry.source), facts.loopBackingFilesystems(major: device.major, minor: device.minor)))
        }
        // A loop-backed filesystem whose backing file lies on a filesystem this plan freezes (or
        // on one that cannot be told) is skipped: its writeback would wait on the frozen backing
        // filesystem (V5). One whose backing file lies on a filesystem left alone freezes.
        let planned = Set(candidates.map(\.target.device))
        for (target, backing) in candidates {
            if let backing, let blocking = backing.first(where: { $0 == "?" || planned.contains($0) }) {
                let reason = blocking == "?" ? "loop-backed, backing file not found" : "loop-backed, its backing file is on a filesystem frozen too"
                skipped.append(Skip(mountPoint: target.mountPoint, source: target.source, reason: reason))
            } else {
                targets.append(target)
            }
        }
        return FreezePlan(targets: targets, skipped: skipped)
    }

    static func isUnder(_ path: String, _ root: String) -> Bool {
        let trimmed = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        return path == trimmed || path.hasPrefix(trimmed == "/" ? "/" : trimmed + "/")
    }

    private static func matches(_ pattern: String, _ source: String, facts: some BlockDeviceFacts,
                                device: (major: UInt32, minor: UInt32)) -> Bool {
        if pattern == "iscsi" { return facts.isISCSI(major: device.major, minor: device.minor) }
        return fnmatch(pattern, source, 0) == 0
    }
}
