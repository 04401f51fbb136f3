import HVProtocol

/// The host's Copy-VMFile (docs/PROTOCOL.md §6.6; spec sequence START → WRITE × n → COMPLETE, CANCEL
/// after any failure): one transaction at a time, each waiting for the guest's reply. The exchange
/// log gets START, COMPLETE, CANCEL, failures and a summary of the WRITEs, not one line per chunk.
///
/// Call from the thread that pumps the host. Throws `HostChannelError.notReady` before file copy
/// negotiated and `FileCopyHostError.noReply` on a timeout.
extension SimulatedHyperVHost {
    public func copyVMFile(_ copy: HostFileCopy, timeout: Double = 10) throws -> HostFileCopyResult {
        let size = copy.announcedSize ?? UInt64(copy.data.count)
        var flags: UInt32 = 0
        if copy.overwrite { flags |= FileCopyHostLogic.overwrite }
        if copy.createPath { flags |= FileCopyHostLogic.createPath }
        let startBody = try FileCopyHostLogic.startBody(fileName: copy.fileName, pathName: copy.destination, flags: flags, fileSize: size)
        var result = HostFileCopyResult(start: try fcopyRequest(
            startBody, detail: "START \(copy.fileName) -> \(copy.destination), \(size) bytes, flags \(flags)", timeout: timeout).header.status)
        guard result.start.isSuccess else { return result }

        let chunk = max(1, copy.chunkSize)
        var offsets = Array(stride(from: 0, to: copy.data.count, by: chunk))
        if copy.reverseChunks { offsets.reverse() }
        for (index, offset) in offsets.enumerated() {
            if let cancelAt = copy.cancelAfterChunks, index >= cancelAt { break }
            let end = min(copy.data.count, offset + chunk)
            let body = FileCopyHostLogic.writeBody(offset: UInt64(offset), data: copy.data[offset..<end], trimmed: copy.trimWrites)
            let reply = try fcopyRequest(body, detail: index == 0 ? "WRITE chunks of \(chunk) bytes" : nil, timeout: timeout)
            let status = reply.header.status
            // Linux and macOS echo the whole request (docs/PROTOCOL.md §6.6).
            if reply.body.count != body.count { result.shortReplies += 1 }
            result.writes.append(status)
            if !status.isSuccess {
                log.record(channel: "fcopy", event: "reply", type: "fcopy", status: status.logText,
                           detail: "WRITE at \(offset) failed")
                break
            }
        }
        if result.writes.contains(where: { !$0.isSuccess }) || copy.cancelAfterChunks.map({ $0 < offsets.count }) == true {
            result.cancel = try fcopyRequest(FileCopyHostLogic.cancelBody, detail: "CANCEL after \(result.writes.count) WRITEs",
                                             timeout: timeout).header.status
            return result
        }
        result.complete = try fcopyRequest(FileCopyHostLogic.completeBody,
                                           detail: "COMPLETE after \(result.writes.count) WRITEs", timeout: timeout).header.status
        return result
    }

    /// Sends one file-copy body as it is (hostile and out-of-order scripts) and returns the status.
    public func fcopySend(_ body: [UInt8], detail: String, timeout: Double = 10) throws -> HResult {
        try fcopyRequest(body, detail: detail, timeout: timeout).header.status
    }

    /// One transaction. `detail` nil sends without a log line (the WRITEs of a long copy).
    /// - Returns: the reply's IC header and body.
    func fcopyRequest(_ body: [UInt8], detail: String?, timeout: Double) throws -> (header: ICMessageHeader, body: [UInt8]) {
        fcopyReply = nil
        try send(.fcopy, type: .fcopy, body: body, detail: detail ?? "", logged: detail != nil)
        guard try run(timeout: timeout, until: { self.fcopyReply != nil }), let reply = fcopyReply else {
            throw FileCopyHostError.noReply(detail ?? "WRITE")
        }
        fcopyReply = nil
        if let detail {
            log.record(channel: "fcopy", event: "reply", type: "fcopy", status: reply.header.status.logText,
                       detail: detail.split(separator: " ").first.map(String.init) ?? detail)
        }
        return reply
    }
}
