/// The five KVP pools of Hyper-V data exchange (docs/PROTOCOL.md §7.2, §7.13).
///
/// The raw value is the pool byte of the host wire and of the kernel
/// message; the file of pool `n` is `.kvp_pool_<n>`.
public enum KVPPool: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Host → guest user data (WMI "External"); persisted from host SETs.
    case external = 0
    /// Guest → host data written by guest programs (cloud-init, azure-init, `kvp set`).
    case guest = 1
    /// Guest → host intrinsic items; synthesised, the file is never consulted.
    case auto = 2
    /// Host → guest facts about the host (HostName, VirtualMachineId, ...).
    case autoExternal = 3
    /// Defined by the protocol but never exchanged on the wire.
    case autoInternal = 4

    /// Short name used by the `kvp` CLI and in logs.
    public var name: String {
        switch self {
        case .external: return "external"
        case .guest: return "guest"
        case .auto: return "auto"
        case .autoExternal: return "host"
        case .autoInternal: return "internal"
        }
    }

    public var description: String { "\(rawValue)/\(name)" }

    /// File name inside the pool directory.
    public var fileName: String { ".kvp_pool_\(rawValue)" }

    /// Parses a pool given by number ("0".."4") or by name.
    public init?(argument: String) {
        if let n = UInt8(argument), let p = KVPPool(rawValue: n) {
            self = p
            return
        }
        guard let p = KVPPool.allCases.first(where: { $0.name == argument.lowercased() }) else {
            return nil
        }
        self = p
    }
}
