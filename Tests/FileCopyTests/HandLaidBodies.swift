import Foundation

/// File-copy bodies laid out by hand from docs/PROTOCOL.md §6.6 (never with the module's code), so a
/// layout mistake in the decoder cannot match itself.
enum HandLaid {
    static func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }
    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }

    /// hv_fcopy_hdr: operation at 0, service_id0 at 4 (16 bytes), service_id1 at 20 (16 bytes).
    static func header(_ operation: UInt32) -> [UInt8] {
        u32(operation) + [UInt8](repeating: 0xA5, count: 16) + [UInt8](repeating: 0x5A, count: 16)
    }

    /// A 520-byte name field from UTF-16 code units (NUL appended when it fits, zero-filled).
    static func nameField(units: [UInt16], terminate: Bool = true) -> [UInt8] {
        var field: [UInt8] = []
        for unit in units { field += [UInt8(unit & 0xff), UInt8(unit >> 8)] }
        if terminate { field += [0, 0] }
        return Array((field + [UInt8](repeating: 0, count: 520)).prefix(520))
    }

    static func nameField(_ text: String) -> [UInt8] { nameField(units: Array(text.utf16)) }

    /// A 520-byte field of UTF-8 bytes and a NUL (what the kernel device hands the daemon).
    static func utf8Field(_ text: String) -> [UInt8] {
        Array((Array(text.utf8) + [0] + [UInt8](repeating: 0, count: 520)).prefix(520))
    }

    /// hv_start_fcopy: header, file_name at 36, path_name at 556, copy_flags at 1076, file_size at
    /// 1080; 1088 bytes.
    static func start(file: [UInt8], path: [UInt8], flags: UInt32, size: UInt64) -> [UInt8] {
        header(0) + file + path + u32(flags) + u64(size)
    }

    static func start(_ file: String, in path: String, flags: UInt32 = 0, size: UInt64 = 0) -> [UInt8] {
        start(file: nameField(file), path: nameField(path), flags: flags, size: size)
    }

    /// hv_do_fcopy: header, pad at 36, offset at 40, size at 52-4=48, data at 52 (6144 bytes in
    /// the full form, 6196 in all; trimmed to 52 + data otherwise).
    static func write(offset: UInt64, data: [UInt8], size: UInt32? = nil, full: Bool = true) -> [UInt8] {
        var body = header(1) + u32(0) + u64(offset) + u32(size ?? UInt32(data.count)) + data
        if full && body.count < 6196 { body += [UInt8](repeating: 0, count: 6196 - body.count) }
        return body
    }

    static let complete = header(2)
    static let cancel = header(3)

    /// The pipe header and IC header of a host request (docs/PROTOCOL.md §5.1, §5.2), then `body`.
    static func packet(type: UInt8 = 7, body: [UInt8], framework: (UInt8, UInt8) = (3, 0), version: (UInt8, UInt8) = (1, 1)) -> [UInt8] {
        let messageSize = 20 + body.count
        var bytes: [UInt8] = [0x01, 0x00, 0x00, 0x00]  // pipe: DATA
        bytes += u32(UInt32(messageSize))  // pipe: msgsize
        bytes += [framework.0, 0x00, framework.1, 0x00]  // icverframe
        bytes += [type, 0x00]  // icmsgtype
        bytes += [version.0, 0x00, version.1, 0x00]  // icvermsg
        bytes += [UInt8(body.count & 0xff), UInt8((body.count >> 8) & 0xff)]  // icmsgsize
        bytes += [0x00, 0x00, 0x00, 0x00]  // status
        bytes += [0x00, 0x03, 0x00, 0x00]  // transaction id, flags TRANSACTION|REQUEST, reserved
        return bytes + body
    }

    /// A NEGOTIATE body: counts, reserved, framework versions then service versions (§5.4).
    static func negotiate(frameworks: [(UInt16, UInt16)], services: [(UInt16, UInt16)]) -> [UInt8] {
        var body: [UInt8] = [UInt8(frameworks.count), 0, UInt8(services.count), 0, 0, 0, 0, 0]
        for (major, minor) in frameworks + services {
            body += [UInt8(major & 0xff), UInt8(major >> 8), UInt8(minor & 0xff), UInt8(minor >> 8)]
        }
        return body
    }
}

/// A private directory tree for one test, removed with everything in it.
final class Scratch {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "hvagent-fcopy-test." + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func sub(_ name: String) -> String { path + "/" + name }

    /// Every entry below `path` (relative, sorted), hidden ones included: what a test asserts about.
    func tree(_ under: String? = nil) -> [String] {
        let root = under ?? path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        return enumerator.compactMap { $0 as? String }.sorted()
    }

    func contents(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: sub(name)).map { [UInt8]($0) }
    }

    func mode(_ name: String) -> UInt32? {
        var info = stat()
        guard lstat(sub(name), &info) == 0 else { return nil }
        return UInt32(info.st_mode) & 0o7777
    }

    func write(_ name: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: sub(name), contents: Data(bytes))
    }
}
