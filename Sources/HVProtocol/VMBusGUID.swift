/// A VMBus GUID (class or instance id).
///
/// Text form is lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (as sysfs prints it, without the
/// braces of `class_id`). Binary form is the Windows layout: the first three fields little-endian,
/// the last eight bytes as written (docs/PROTOCOL.md §4.3: `vmbus:30e62795aed07b49adcee80ab0175caf` for timesync).
public struct VMBusGUID: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes in wire (Windows) order.
    public let bytes: [UInt8]

    /// The all-zero GUID.
    public static let null = VMBusGUID(bytes: [UInt8](repeating: 0, count: 16))

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// From 16 wire-order bytes; `nil` for any other count.
    public init?(wireBytes: some Collection<UInt8>) {
        guard wireBytes.count == 16 else { return nil }
        bytes = Array(wireBytes)
    }

    /// Parses the text form, with or without braces, any case.
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if s.first == "{" && s.last == "}" { s = s.dropFirst().dropLast() }
        let groups = s.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.count == 5, groups.map(\.count) == [8, 4, 4, 4, 12] else { return nil }
        var big: [UInt8] = []
        for group in groups {
            var i = group.startIndex
            while i < group.endIndex {
                let j = group.index(i, offsetBy: 2)
                guard let byte = UInt8(group[i..<j], radix: 16) else { return nil }
                big.append(byte)
                i = j
            }
        }
        // Text is big-endian per field; the wire stores the first three fields little-endian.
        bytes = [big[3], big[2], big[1], big[0], big[5], big[4], big[7], big[6]] + big[8...]
    }

    public var description: String {
        let b = bytes
        let big = [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]] + b[8...]
        let hex = big.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-"
            + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
