import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The file-copy state machine (docs/PROTOCOL.md §6.6, "hvagent's state machine"): Idle → Open at
/// a valid START, back to Idle at COMPLETE, CANCEL, any failure, a new START, NEGOTIATE, or when the
/// engine goes away. Shared by the ring (``FileCopyICService``) and `/dev/vmbus/hv_fcopy`
/// (``FileCopyKernelDevice``); both hand it decoded messages and send back the status it returns.
///
/// Every input is the host's and untrusted: sizes were checked by the decoder, names and paths are
/// checked here, and no failure leaves a file or a temporary file behind.
public final class FileCopyEngine {
    public let policy: FileCopyPolicy
    private var transfer: FileCopyTransfer?
    /// Reports not yet taken (``takeReports()``).
    private var reports: [FileCopyReport] = []

    public init(policy: FileCopyPolicy = FileCopyPolicy()) {
        self.policy = policy
    }

    /// Whether a copy is open (between START and its end).
    public var isOpen: Bool { transfer != nil }

    /// The reports since the last call, oldest first.
    public func takeReports() -> [FileCopyReport] {
        defer { reports = [] }
        return reports
    }

    /// Handles one body (ring: after the IC header; device: the whole message) and returns the
    /// status for the reply.
    public func handle(body: [UInt8], names: FileCopyNameEncoding) -> HResult {
        let message: FileCopyMessage
        do {
            message = try FileCopyMessage.decode(body, names: names)
        } catch {
            let operation = FileCopyMessage.operation(of: body)
            // A malformed START or WRITE ends the open copy: it could not finish correctly.
            if operation == .startFileCopy || operation == .writeToFile {
                discard(reason: "malformed \(operation.map { "\($0)" } ?? "message"): \(error)", status: .fail)
            }
            if operation == .startFileCopy {
                reports.append(FileCopyReport(outcome: .failed, path: "?", bytes: 0, status: .fail, reason: "\(error)"))
            }
            return .fail
        }
        return handle(message)
    }

    /// Handles one decoded message.
    public func handle(_ message: FileCopyMessage) -> HResult {
        switch message {
        case .start(let start):
            discard(reason: "a new START arrived", status: .ok)
            return begin(start)
        case .write(let chunk):
            guard let transfer else { return .fail }  // no copy open: no I/O at all (F6)
            if transfer.fileSize > 0 && chunk.offset + UInt64(chunk.data.count) > transfer.fileSize {
                return fail(transfer, FileCopyError.refused(
                    "chunk at \(chunk.offset) + \(chunk.data.count) past file_size \(transfer.fileSize)"))
            }
            do {
                try transfer.write(chunk.data, at: chunk.offset)
                return .ok
            } catch {
                return fail(transfer, error)
            }
        case .complete:
            // Idle COMPLETE is a no-op, as Linux answers it (S_OK).
            guard let transfer else { return .ok }
            do {
                try transfer.publish()
                self.transfer = nil
                reports.append(FileCopyReport(outcome: .copied, path: transfer.path, bytes: transfer.bytesWritten, status: .ok))
                return .ok
            } catch {
                return fail(transfer, error)
            }
        case .cancel:
            discard(reason: "CANCEL", status: .ok)
            return .ok
        case .unknown:
            return .fail
        }
    }

    /// Ends the open copy, if any, leaving nothing behind (NEGOTIATE, channel close, shutdown).
    public func discard(reason: String, status: HResult = .ok) {
        guard let transfer else { return }
        self.transfer = nil
        transfer.discard()
        reports.append(FileCopyReport(outcome: .discarded, path: transfer.path, bytes: transfer.bytesWritten, status: status, reason: reason))
    }

    private func fail(_ transfer: FileCopyTransfer, _ error: FileCopyError) -> HResult {
        self.transfer = nil
        transfer.discard()
        reports.append(FileCopyReport(outcome: .failed, path: transfer.path, bytes: transfer.bytesWritten, status: error.status, reason: "\(error)"))
        return error.status
    }

    private func begin(_ start: FileCopyStart) -> HResult {
        do {
            transfer = try open(start)
            return .ok
        } catch {
            reports.append(FileCopyReport(outcome: .failed, path: start.pathName, bytes: 0, status: error.status, reason: "\(error)"))
            return error.status
        }
    }

    /// START: path policy, existence, parents, free space, then the temporary file.
    private func open(_ start: FileCopyStart) throws(FileCopyError) -> FileCopyTransfer {
        let destination = try FileCopyDestination(start)
        // path_name is a directory when it says so (trailing '/') or is one now; else the file.
        var directoryComponents = destination.components
        var directory: Int32 = -1
        if !destination.trailingSlash {
            do {
                directory = try SafeDirectory.open(destination.components, create: false, policy: policy)
            } catch {
                // Not an existing directory (missing, a file, or a symlink, which is never followed).
                directoryComponents = Array(destination.components.dropLast())
            }
        }
        let leaf: String
        if directory >= 0 || destination.trailingSlash {
            leaf = try destination.leafInDirectory(destination.display)
        } else {
            leaf = destination.components.last ?? ""
        }
        guard policy.allows(directory: directoryComponents) else {
            if directory >= 0 { close(directory) }
            throw .refused("\(destination.display) is outside the allowed roots")
        }
        if directory < 0 {
            directory = try SafeDirectory.open(directoryComponents, create: start.createPath, policy: policy)
        }
        let path = (directoryComponents.isEmpty ? "" : "/" + directoryComponents.joined(separator: "/")) + "/" + leaf
        do {
            try checkTarget(directory: directory, leaf: leaf, path: path, overwrite: start.overwrite)
            try checkSpace(directory: directory, fileSize: start.fileSize, path: path)
        } catch {
            close(directory)
            throw error
        }
        // A transfer owns `directory` once made (its deinit closes it).
        do {
            return try FileCopyTransfer(directory: directory, leaf: leaf, path: path, overwrite: start.overwrite,
                                        fileSize: start.fileSize, mode: policy.fileMode, unnamed: policy.useTmpfile)
        } catch {
            close(directory)
            throw error
        }
    }

    /// Exists and no OVER_WRITE: ALREADY_EXISTS, as Linux. Exists, OVER_WRITE, but not a regular
    /// file (a directory, a symlink, a device): refused, never followed or truncated (F4).
    private func checkTarget(directory: Int32, leaf: String, path: String, overwrite: Bool) throws(FileCopyError) {
        var info = stat()
        if fstatat(directory, leaf, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            guard overwrite else { throw .alreadyExists(path) }
            guard info.st_mode & S_IFMT == S_IFREG else { throw .refused("\(path) exists and is not a regular file") }
        } else if errno != ENOENT {
            throw .system("stat \(path)", errno: errno)
        }
    }

    /// F13: a file that cannot fit is refused at START with ERROR_DISK_FULL instead of mid-copy.
    private func checkSpace(directory: Int32, fileSize: UInt64, path: String) throws(FileCopyError) {
        guard policy.preflightFreeSpace, fileSize > 0 else { return }
        var info = statvfs()
        guard fstatvfs(directory, &info) == 0 else { return }
        let free = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        if !free.overflow && free.partialValue < fileSize {
            throw .diskFull("\(path) needs \(fileSize) bytes, \(free.partialValue) free")
        }
    }
}
