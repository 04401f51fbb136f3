import ICFramework
import ShutdownSvc
import HVProtocol

/// Host side of shutdown: one request, then the reply's status.
public enum ShutdownHostLogic {
    public static func requestBody(flags: UInt32, reason: UInt32 = ShutdownMessage.reasonPlanned,
                                   timeoutSeconds: UInt32 = 0, message: String = "") -> [UInt8] {
        let text = message.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        var body: [UInt8] = []
        ShutdownMessage(reasonCode: reason, timeoutSeconds: timeoutSeconds, flags: flags, displayMessage: text).encode(into: &body)
        return body
    }
}
