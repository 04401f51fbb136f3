
/// Body of a SHUTDOWN request (docs/PROTOCOL.md §6.2, Linux `struct shutdown_msg_data`,
/// openvmm `ShutdownMessage`): 2060 bytes.
public struct ShutdownMessage: Hashable, Sendable {
    /// +0 u32: reason (openvmm sends SHTDN_REASON_FLAG_PLANNED = 0x80000000).
    public var reasonCode: UInt32
    /// +4 u32: seconds the host waits (openvmm sends 0).
    public var timeoutSeconds: UInt32
    /// +8 u32: bit0 FORCE, bit1 RESTART, bit2 HIBERNATE; the guest acts on the exact value.
    public var flags: UInt32
    /// +12 u8[2048]: display message; encoding undocumented (docs/PROTOCOL.md §9), decoded as UTF-16LE
    /// up to the first NUL for logs only.
    public var displayMessage: [UInt8]

    public static let size = 2060
    public static let displayMessageSize = 2048

    public static let flagForce: UInt32 = 1
    public static let flagRestart: UInt32 = 2
    public static let flagHibernate: UInt32 = 4
    /// SHTDN_REASON_FLAG_PLANNED.
    public static let reasonPlanned: UInt32 = 0x8000_0000

    public init(reasonCode: UInt32 = ShutdownMessage.reasonPlanned, timeoutSeconds: UInt32 = 0, flags: UInt32,
                displayMessage: [UInt8] = []) {
        self.reasonCode = reasonCode
        self.timeoutSeconds = timeoutSeconds
        self.flags = flags
        self.displayMessage = displayMessage
    }

    public static func decode(_ body: [UInt8]) -> ShutdownMessage? {
        guard body.count >= size, let reason = LittleEndian.u32(body, at: 0),
              let timeout = LittleEndian.u32(body, at: 4), let flags = LittleEndian.u32(body, at: 8)
        else { return nil }
        return ShutdownMessage(
            reasonCode: reason, timeoutSeconds: timeout, flags: flags, displayMessage: Array(body[12..<size]))
    }

    public func encode(into bytes: inout [UInt8]) {
        LittleEndian.append(reasonCode, to: &bytes)
        LittleEndian.append(timeoutSeconds, to: &bytes)
        LittleEndian.append(flags, to: &bytes)
        let message = displayMessage.prefix(Self.displayMessageSize)
        bytes.append(contentsOf: message)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: Self.displayMessageSize - message.count))
    }

    /// The display message as text, for logs.
    public var displayText: String {
        var units: [UInt16] = []
        var index = 0
        while index + 1 < displayMessage.count {
            let unit = UInt16(displayMessage[index]) | UInt16(displayMessage[index + 1]) << 8
            if unit == 0 { break }
            units.append(unit)
            index += 2
        }
        // Host text goes into logs and wall messages: no control characters (no forged lines).
        let text = String(decoding: units, as: UTF16.self)
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { !$0.properties.isNoncharacterCodePoint && ![.control, .format].contains($0.properties.generalCategory) }))
    }
}
