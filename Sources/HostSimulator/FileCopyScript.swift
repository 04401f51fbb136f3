import FoundationEssentials
import HVProtocol

/// A scripted Copy-VMFile session (`hvagent sim-host --fcopy-script`): the same host requests sent
/// to any guest, each reply written as one JSON line, so two guests (hvagent and Linux's
/// `hv_fcopy_uio_daemon`, Tests/fcopy-diff) can be compared message by message.
///
/// A script is JSON lines, one ``Step`` each. File data is never stored in a script: a step names a
/// length and a seed, and byte k of the file is ``pattern(at:seed:)`` (k = offset in the file), so
/// a checker recomputes the expected contents itself.
public struct FileCopyScript: Sendable {
    /// One request (or, for `copy` and `ping`, one run of requests).
    public struct Step: Codable, Sendable {
        /// `start`, `write`, `complete`, `cancel`, `raw` (a body as hex), `copy` (START, WRITEs of
        /// `chunk` bytes, COMPLETE; CANCEL after a failure or after `cancelAfter` WRITEs) or
        /// `ping` (`count` COMPLETEs padded to a full WRITE's 6196 bytes with no copy open: a no-op
        /// S_OK for every guest, so the time is the round trip of a 6 KiB request and its echoed
        /// reply, without the file system).
        public var op: String
        public var file: String?
        public var path: String?
        /// A name field as hex bytes, instead of `file` / `path` (unpaired surrogates, no NUL).
        public var fileHex: String?
        public var pathHex: String?
        public var flags: UInt32?
        /// START's file_size; for `copy` also the data length.
        public var size: UInt64?
        public var offset: UInt64?
        /// WRITE: data bytes carried (default 0).
        public var length: Int?
        /// WRITE: the size field when it should lie about the data.
        public var declared: UInt32?
        /// WRITE: packet trimmed to 52 + data instead of the full 6196-byte struct.
        public var trimmed: Bool?
        public var seed: UInt8?
        public var hex: String?
        public var chunk: Int?
        public var cancelAfter: Int?
        public var count: Int?
    }

    /// What one step got back.
    public struct Outcome: Codable, Sendable {
        public var step: Int
        public var op: String
        /// HRESULT as 8 hex digits, or "no reply".
        public var status: String
        /// The reply's IC header, hex (versions, type, icmsgsize, status, transaction id, flags).
        public var header: String?
        /// Whether the reply body is the request body, byte for byte.
        public var echo: Bool?
        public var replyBytes: Int?
        /// `copy`: the statuses of START, the WRITEs (distinct values with counts) and COMPLETE/CANCEL.
        public var statuses: [String]?
        public var seconds: Double?
        public var megabytesPerSecond: Double?
    }

    public var steps: [Step]

    public init(steps: [Step]) {
        self.steps = steps
    }

    /// Parses JSON lines (blank lines and lines starting with `#` are skipped).
    public init(jsonLines text: String) throws {
        let decoder = JSONDecoder()
        steps = try text.split(separator: "\n").compactMap { line in
            guard let first = line.first(where: { $0 != " " && $0 != "\t" }), first != "#" else { return nil }
            return try decoder.decode(Step.self, from: Data(line.utf8))
        }
    }

    /// Byte k of every scripted file: a sequence with period 251 (prime, so no chunk or page
    /// boundary lines up with it) mixed with the seed.
    @inlinable
    public static func pattern(at k: UInt64, seed: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: k % 251) ^ seed
    }

    /// The pattern from file offset 0 for one period plus `count` bytes: any `count` bytes of the
    /// file are then one slice of it (``slice(_:from:count:)``), with no per-byte work per chunk.
    static func table(seed: UInt8, count: Int) -> [UInt8] {
        (0..<UInt64(251 + count)).map { pattern(at: $0, seed: seed) }
    }

    static func slice(_ table: [UInt8], from offset: UInt64, count: Int) -> ArraySlice<UInt8> {
        let start = Int(offset % 251)
        return table[start..<start + count]
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: continue
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    static func statusText(_ status: HResult) -> String {
        let digits = String(status.rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension SimulatedHyperVHost {
    /// Runs `script` on the negotiated file-copy channel, handing each outcome to `report` as it
    /// comes. A step without a reply (the guest died or hung) ends the script.
    public func runFileCopyScript(_ script: FileCopyScript, timeout: Double = 10,
                                  report: (FileCopyScript.Outcome) -> Void) throws {
        for (index, step) in script.steps.enumerated() {
            let outcome: FileCopyScript.Outcome
            do {
                outcome = try runStep(step, index: index, timeout: timeout)
            } catch let error as FileCopyHostError {
                guard case .noReply = error else { throw error }
                report(FileCopyScript.Outcome(step: index, op: step.op, status: "no reply"))
                return
            }
            report(outcome)
        }
    }

    private func runStep(_ step: FileCopyScript.Step, index: Int, timeout: Double) throws -> FileCopyScript.Outcome {
        switch step.op {
        case "copy": return try scriptedCopy(step, index: index, timeout: timeout)
        case "ping": return try scriptedPing(step, index: index, timeout: timeout)
        default: break
        }
        let body: [UInt8]
        switch step.op {
        case "start":
            let fileField = try step.fileHex.map(FileCopyScript.bytes(hex:)) ?? FileCopyHostLogic.nameField(step.file ?? "")
            let pathField = try step.pathHex.map(FileCopyScript.bytes(hex:)) ?? FileCopyHostLogic.nameField(step.path ?? "")
            body = FileCopyHostLogic.startBody(fileNameField: fileField, pathNameField: pathField, flags: step.flags ?? 0,
                                               fileSize: step.size ?? 0)
        case "write":
            let offset = step.offset ?? 0
            let length = max(0, step.length ?? 0)
            let data = FileCopyScript.slice(FileCopyScript.table(seed: step.seed ?? 0, count: length), from: offset, count: length)
            body = FileCopyHostLogic.writeBody(offset: offset, data: data, trimmed: step.trimmed ?? false, declaredSize: step.declared)
        case "complete": body = FileCopyHostLogic.completeBody
        case "cancel": body = FileCopyHostLogic.cancelBody
        case "raw": body = FileCopyScript.bytes(hex: step.hex ?? "")
        default: throw FileCopyScriptError.unknownOperation(step.op)
        }
        let reply = try fcopyRequest(body, detail: "step \(index): \(step.op)", timeout: timeout)
        var header: [UInt8] = []
        reply.header.encode(into: &header)
        return FileCopyScript.Outcome(step: index, op: step.op, status: FileCopyScript.statusText(reply.header.status),
                                      header: FileCopyScript.hex(header), echo: reply.body == body, replyBytes: reply.body.count)
    }

    /// START, WRITEs of `chunk` bytes generated as they go (a 1 GiB copy never holds 1 GiB), then
    /// COMPLETE, or CANCEL after a failed WRITE or after `cancelAfter` WRITEs.
    private func scriptedCopy(_ step: FileCopyScript.Step, index: Int, timeout: Double) throws -> FileCopyScript.Outcome {
        let size = step.size ?? 0
        let seed = step.seed ?? 0
        let chunk = max(1, min(step.chunk ?? FileCopyHostLogic.chunk, FileCopyHostLogic.chunk))
        let began = ContinuousClock.now
        let startBody = try FileCopyHostLogic.startBody(fileName: step.file ?? "", pathName: step.path ?? "",
                                                        flags: step.flags ?? 0, fileSize: size)
        let ok = FileCopyScript.statusText(.ok)
        var last = FileCopyScript.statusText(try fcopyRequest(startBody, detail: "step \(index): copy START", timeout: timeout).header.status)
        var statuses = ["START " + last]
        var failed = last != ok
        var cancelled = false
        if !failed {
            var counts: [(String, Int)] = []
            let table = FileCopyScript.table(seed: seed, count: chunk)
            var offset: UInt64 = 0
            var sent = 0
            while offset < size {
                if let limit = step.cancelAfter, sent >= limit { cancelled = true; break }
                let count = Int(min(UInt64(chunk), size - offset))
                let body = FileCopyHostLogic.writeBody(offset: offset, data: FileCopyScript.slice(table, from: offset, count: count),
                                                       trimmed: step.trimmed ?? false)
                last = FileCopyScript.statusText(try fcopyRequest(body, detail: nil, timeout: timeout).header.status)
                if let end = counts.indices.last, counts[end].0 == last { counts[end].1 += 1 } else { counts.append((last, 1)) }
                sent += 1
                offset += UInt64(count)
                if last != ok { failed = true; break }
            }
            statuses += counts.map { "WRITE \($0.0) x\($0.1)" }
        }
        if statuses.count > 1 || !failed {
            let (name, body) = failed || cancelled ? ("CANCEL", FileCopyHostLogic.cancelBody) : ("COMPLETE", FileCopyHostLogic.completeBody)
            last = FileCopyScript.statusText(try fcopyRequest(body, detail: "step \(index): copy \(name)", timeout: timeout).header.status)
            statuses.append("\(name) \(last)")
        }
        let seconds = began.duration(to: .now).seconds
        return FileCopyScript.Outcome(step: index, op: step.op, status: last, statuses: statuses, seconds: seconds,
                                      megabytesPerSecond: seconds > 0 ? Double(size) / seconds / 1e6 : nil)
    }

    /// `count` idle COMPLETEs of a full WRITE's size, back to back.
    private func scriptedPing(_ step: FileCopyScript.Step, index: Int, timeout: Double) throws -> FileCopyScript.Outcome {
        let count = max(1, step.count ?? 1000)
        let writeSize = FileCopyHostLogic.writeBody(offset: 0, data: []).count
        let body = FileCopyHostLogic.completeBody + [UInt8](repeating: 0, count: writeSize - FileCopyHostLogic.completeBody.count)
        var distinct: [String] = []
        let began = ContinuousClock.now
        for _ in 0..<count {
            let status = FileCopyScript.statusText(try fcopyRequest(body, detail: nil, timeout: timeout).header.status)
            if !distinct.contains(status) { distinct.append(status) }
        }
        let seconds = began.duration(to: .now).seconds
        return FileCopyScript.Outcome(step: index, op: step.op, status: distinct.first ?? "", statuses: distinct, seconds: seconds,
                                      megabytesPerSecond: Double(count * FileCopyHostLogic.chunk) / seconds / 1e6)
    }
}

public enum FileCopyScriptError: Error, Hashable, Sendable {
    case unknownOperation(String)
}
