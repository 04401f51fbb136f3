import HVProtocol

/// Why a file-copy step failed, and the HRESULT the host gets for it (docs/PROTOCOL.md §6.6).
///
/// Linux answers only three statuses (E_FAIL, ERROR_ALREADY_EXISTS, ERROR_DISK_FULL), and no
/// implementation uses another, so every refusal here maps onto one of them.
public enum FileCopyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The target exists and OVER_WRITE is clear (ERROR_ALREADY_EXISTS 0x80070050).
    case alreadyExists(String)
    /// No space or quota left (ERROR_DISK_FULL 0x80070070).
    case diskFull(String)
    /// A name, path, size or state the policy refuses (E_FAIL).
    case refused(String)
    /// A system call failed (E_FAIL).
    case system(String, errno: Int32)

    public var status: HResult {
        switch self {
        case .alreadyExists: .alreadyExists
        case .diskFull: .diskFull
        case .refused, .system: .fail
        }
    }

    public var description: String {
        switch self {
        case .alreadyExists(let path): "\(path) exists and OVER_WRITE is not set"
        case .diskFull(let what): "no space left: \(what)"
        case .refused(let why): why
        case .system(let call, let code): "\(call): \(FileCopyError.errnoText(code))"
        }
    }

    static func errnoText(_ code: Int32) -> String {
        switch code {
        case 1: "EPERM"
        case 2: "ENOENT"
        case 5: "EIO"
        case 13: "EACCES"
        case 17: "EEXIST"
        case 20: "ENOTDIR"
        case 21: "EISDIR"
        case 27: "EFBIG"
        case 28: "ENOSPC"
        case 30: "EROFS"
        case 36: "ENAMETOOLONG"
        case 40: "ELOOP"
        case 122: "EDQUOT"
        default: "errno \(code)"
        }
    }
}
