/// One line of `/proc/<pid>/mountinfo` (proc(5)), the freezer's view of a mount.
///
/// mountinfo, not `/proc/mounts` (which hv_vss_daemon reads): it carries the superblock options
/// after the ` - ` separator and the superblock's MAJ:MIN, so "read-only" and "the same filesystem
/// mounted twice" are decided per superblock (COMPATIBILITY.md, VSS V8).
public struct MountInfoEntry: Hashable, Sendable {
    public var mountID: Int
    public var parentID: Int
    /// The superblock's device number as mountinfo prints it (`MAJ:MIN`); btrfs subvolumes and
    /// other anonymous devices show major 0.
    public var device: String
    public var root: String
    /// The mount point, with mountinfo's octal escapes (`\040` …) decoded.
    public var mountPoint: String
    public var mountOptions: [String]
    public var filesystemType: String
    public var source: String
    public var superOptions: [String]

    public init(mountID: Int, parentID: Int, device: String, root: String, mountPoint: String, mountOptions: [String],
                filesystemType: String, source: String, superOptions: [String]) {
        self.mountID = mountID
        self.parentID = parentID
        self.device = device
        self.root = root
        self.mountPoint = mountPoint
        self.mountOptions = mountOptions
        self.filesystemType = filesystemType
        self.source = source
        self.superOptions = superOptions
    }

    /// Read-only at superblock level (`ro` among the super options), where FIFREEZE has nothing to
    /// flush; a read-only *mount* of a read-write superblock still freezes that superblock.
    public var superblockReadOnly: Bool { superOptions.contains("ro") }

    /// Parses one line; nil for a line that does not have the documented shape.
    public static func parse(_ line: some StringProtocol) -> MountInfoEntry? {
        let fields = String(line).split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 10, let separator = fields.firstIndex(of: "-"), separator >= 6,
              fields.count >= separator + 4,
              let mountID = Int(fields[0]), let parentID = Int(fields[1])
        else { return nil }
        return MountInfoEntry(
            mountID: mountID, parentID: parentID, device: String(fields[2]), root: unescape(fields[3]),
            mountPoint: unescape(fields[4]), mountOptions: fields[5].split(separator: Character(",")).map(String.init),
            filesystemType: unescape(fields[separator + 1]), source: unescape(fields[separator + 2]),
            superOptions: fields[separator + 3].split(separator: Character(",")).map(String.init))
    }

    /// Parses a whole file, skipping malformed lines.
    public static func parseAll(_ text: String) -> [MountInfoEntry] {
        text.split(separator: "\n").compactMap(parse)
    }

    /// mountinfo escapes space, tab, newline and backslash as `\ooo` (the kernel's `mangle`).
    static func unescape(_ field: some StringProtocol) -> String {
        let bytes = Array(field.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), index + 3 < bytes.count, let value = octal(bytes[(index + 1)...(index + 3)]) {
                out.append(value)
                index += 4
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3 else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + Int(digit - UInt8(ascii: "0"))
        }
        return value <= 255 ? UInt8(value) : nil
    }
}
