#if canImport(Glibc)
import Glibc
#endif

/// The command line of `ring-peer`, the subset of `ringref-peer`'s (and `dpdk-vmbus-peer`'s) that
/// `../shared/peers/dpdk-vmbus/interop.sh` uses, with the same defaults.
struct PeerOptions {
    enum Command { case initialize(ringBytes: Int), read, write }
    /// Which half of the channel file this end uses.
    enum Half { case first, second }

    var command: Command
    var file: String
    /// Packets to write (default 1), or the most to read (default: until empty).
    var count: Int?
    /// Payload sizes, cycled through.
    var sizes: [Int] = [64]
    var seq: UInt64 = 0
    var type: UInt16 = 6
    var flags: UInt16 = 0
    /// Default as in ringref-peer: read the first half (what DPDK wrote), write the second (what DPDK
    /// reads); `--half tx|rx` picks the other for DPDK's `--swap`.
    var half: Half
    /// On a full ring, announce `pending_send_sz` for the next packet and stop.
    var setPending = false

    static let usageText = """
        usage: ring-peer init  FILE RING_BYTES
               ring-peer read  FILE [-n MAX] [--half tx|rx]
               ring-peer write FILE [-n N] [-s SIZES] [-q SEQ] [-t TYPE] [-f FLAGS] [--half rx|tx] [--set-pending]
          FILE is a channel file: the TX ring (RING_BYTES, DPDK writes it) then the RX ring (DPDK reads it).
          read drains the TX ring by default, write fills the RX ring; --half picks the other one.

        """

    static func usage() -> Never {
        warn(usageText)
        exit(1)
    }

    init(_ arguments: [String]) {
        guard arguments.count >= 2 else { Self.usage() }
        file = arguments[1]
        var rest = arguments.dropFirst(2)
        switch arguments[0] {
        case "init":
            guard rest.count == 1, let bytes = Self.number(rest[rest.startIndex]) else { Self.usage() }
            command = .initialize(ringBytes: Int(bytes))
            half = .first
            return
        case "read": command = .read; half = .first
        case "write": command = .write; half = .second
        default: Self.usage()
        }
        while let flag = rest.popFirst() {
            if flag == "--set-pending" {
                setPending = true
                continue
            }
            guard let value = rest.popFirst() else { Self.usage() }
            switch flag {
            case "-n":
                guard let n = Self.number(value) else { Self.usage() }
                count = Int(clamping: n)
            case "-s":
                let fields = value.split(separator: ",", omittingEmptySubsequences: false)
                let parsed = fields.compactMap { Self.number(String($0)) }.filter { $0 <= 1 << 20 }.map { Int($0) }
                guard !parsed.isEmpty, parsed.count == fields.count, parsed.count <= 256 else { Self.usage() }
                sizes = parsed
            case "-q":
                guard let n = Self.number(value) else { Self.usage() }
                seq = n
            case "-t":
                guard let n = Self.number(value).flatMap({ UInt16(exactly: $0) }) else { Self.usage() }
                type = n
            case "-f":
                guard let n = Self.number(value).flatMap({ UInt16(exactly: $0) }) else { Self.usage() }
                flags = n
            case "--half":
                switch value {
                case "tx": half = .first
                case "rx": half = .second
                default: Self.usage()
                }
            default: Self.usage()
            }
        }
    }

    /// A non-negative number, decimal or 0x-hex (strtoull's base 0 without octal surprises).
    static func number(_ text: String) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }
}

/// Writes a message to standard error (fd 2).
func warn(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}
