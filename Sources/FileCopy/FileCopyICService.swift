import HVProtocol
import ICFramework

/// File copy over hvagent's ring (docs/PROTOCOL.md §6.6): a pure message handler in front of a
/// ``FileCopyEngine``. One per channel open: when the channel goes, the engine and any copy in
/// progress go with it.
public struct FileCopyICService: ICService {
    public typealias Action = Never

    public let name = "fcopy"
    public let engine: FileCopyEngine

    public init(engine: FileCopyEngine) {
        self.engine = engine
    }

    /// 1.1 only (`WIN8_SRV_VERSION`).
    public var serviceVersions: [ICVersion] { ICServiceID.fcopy.serviceVersions }
    /// 3.0 only, as `hv_fcopy_uio_daemon.c`.
    public var frameworkVersions: [ICVersion] { ICServiceID.fcopy.frameworkVersions }

    /// Type 7, any length: a body too short for its operation is still answered (E_FAIL) and the
    /// service keeps running, where the Linux daemon exits without a reply (COMPATIBILITY.md F9).
    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .fcopy ? 0 : nil
    }

    /// The reply echoes the whole body with the status, as Linux and macOS do.
    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<Never> {
        ICHandled(status: engine.handle(body: request.body, names: .utf16), body: request.body)
    }

    /// NEGOTIATE (re-negotiation) discards a copy in progress.
    public mutating func reset() {
        engine.discard(reason: "the host negotiated again")
    }
}
