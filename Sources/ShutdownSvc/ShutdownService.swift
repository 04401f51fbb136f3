import ICFramework
import Logging
import HVProtocol

/// The shutdown IC (docs/PROTOCOL.md §6.2, Linux `shutdown_onchannelcallback`).
///
/// The handler only decides; the returned `ShutdownRequest` is carried out by the runtime
/// after the host consumed the reply (docs/PROTOCOL.md §8 Q1).
public struct ShutdownService: ICService {
    public typealias Action = ShutdownRequest

    public var serviceVersions: [ICVersion] { ICServiceID.shutdown.serviceVersions }
    public var hibernation: any HibernationSupport
    public var logger: Logger

    public init(hibernation: any HibernationSupport = SysfsHibernationSupport(),
                logger: Logger = Logger(label: "hvagent.shutdown")) {
        self.hibernation = hibernation
        self.logger = logger
    }

    public func minimumBodySize(for type: ICMessageType, version: ICVersion) -> Int? {
        type == .shutdown ? ShutdownMessage.size : nil
    }

    /// Linux's decision table on the exact flags value, plus the hibernate guard.
    public func decide(flags: UInt32) -> ShutdownRequest.Kind? {
        switch flags {
        case 0, 1: return .powerOff
        case 2, 3: return .reboot
        case 4, 5:
            return hibernation.systemCanHibernate && !hibernation.deviceBoundToUIO ? .hibernate : nil
        default: return nil
        }
    }

    public mutating func handle(_ request: ICRequest, version: ICVersion) -> ICHandled<ShutdownRequest> {
        guard let message = ShutdownMessage.decode(request.body) else {
            return ICHandled(status: .fail, body: request.body)  // unreachable: size checked by the parser
        }
        let metadata: Logger.Metadata = [
            "flags": "\(message.flags)", "reason": "0x\(String(message.reasonCode, radix: 16))",
            "timeout_s": "\(message.timeoutSeconds)", "message": "\(message.displayText)",
        ]
        guard let kind = decide(flags: message.flags) else {
            logger.warning("shutdown request refused", metadata: metadata)
            return ICHandled(status: .fail, body: request.body)
        }
        logger.notice("shutdown request accepted: \(kind.rawValue)", metadata: metadata)
        let action = ShutdownRequest(
            kind: kind, reasonCode: message.reasonCode, timeoutSeconds: message.timeoutSeconds,
            message: message.displayText)
        return ICHandled(status: .ok, body: request.body, action: action)
    }

    public mutating func reset() {}
}
