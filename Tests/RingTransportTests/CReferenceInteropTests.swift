import Foundation
import Testing
@testable import RingTransport

/// Interop with the project's C reference ring (`shared/perf/ring-ref/ring_ref.c`), driven through
/// its channel-file peer (`dpdk-vmbus/ringref_peer.c` among the peers, README.md): both implementations read and
/// write one shared file laid out like uio map 0, and print identical per-packet lines.
@Suite("Interop with the C reference ring", .serialized)
struct CReferenceInteropTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// Builds `ringref-peer` with the system C compiler into a temporary directory.
    static func buildPeer(in dir: URL) throws -> URL {
        let out = dir.appendingPathComponent("ringref-peer")
        let (status, output) = try run("/usr/bin/env", [
            "cc", "-O2", "-std=gnu11", "-I", shared.appendingPathComponent("perf/ring-ref").path,
            "-o", out.path, shared.appendingPathComponent("peers/dpdk-vmbus/ringref_peer.c").path,
        ])
        guard status == 0 else { throw InteropError.build(output) }
        return out
    }

    enum InteropError: Error { case build(String) }

    static func run(_ tool: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The peers' payload pattern: byte i of packet seq = 1 + (seq*7 + i) % 255 (never 0).
    static func peerPattern(_ seq: UInt64, _ length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: 1 + (seq &* 7 &+ UInt64($0)) % 255) }
    }

    static func fnv(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// `peer_print`'s line without its first field (the peer's name).
    static func line(seq: UInt64, type: UInt16, flags: UInt16, off8: UInt16, len8: UInt16, start: UInt32, dsize: UInt32, length: Int, hash: UInt64, ok: Bool) -> String {
        let wrap = start + UInt32(len8) * 8 + 8 > dsize ? 1 : 0
        return "pkt seq=\(seq) type=\(type) flags=\(flags) off8=\(off8) len8=\(len8) len=\(length) start=\(start) wrap=\(wrap) fnv=\(String(format: "%016llx", hash)) \(ok ? "ok" : "BAD")"
    }

    static func packetLines(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.contains(" pkt ") }.map { $0.split(separator: " ", maxSplits: 1)[1].description }
    }

    /// A channel file of two rings of `ringSize` bytes, formatted as the kernel does at open.
    final class ChannelFile {
        let url: URL
        let memory: SharedMemoryRegion
        let tx: RingBuffer
        let rx: RingBuffer
        init(dir: URL, ringSize: Int) throws {
            url = dir.appendingPathComponent("channel.bin")
            _ = FileManager.default.createFile(atPath: url.path, contents: Data(count: 2 * ringSize))
            let fd = open(url.path, O_RDWR)
            defer { close(fd) }
            memory = try SharedMemoryRegion(mapping: fd, byteCount: 2 * ringSize)
            RingHeader.format(memory.baseAddress, headerSize: 4096)
            RingHeader.format(memory.baseAddress + ringSize, headerSize: 4096)
            tx = try RingBuffer(base: memory.baseAddress, ringSize: ringSize, headerSize: 4096)
            rx = try RingBuffer(base: memory.baseAddress + ringSize, ringSize: ringSize, headerSize: 4096)
        }
    }

    func withPeer(_ body: (URL, URL) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ringref-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try body(try Self.buildPeer(in: dir), dir)
    }

    static func rotate(_ sizes: [Int]) -> [Int] { Array(sizes.dropFirst()) + [sizes[0]] }

    /// Swift writes the guest TX ring, the C reference reads it; 8 rounds so the indices wrap.
    @Test func swiftWritesCReads() throws {
        try withPeer { peer, dir in
            let file = try ChannelFile(dir: dir, ringSize: 8192)
            var writer = try RingWriter(ring: file.tx)
            var sizes = [1, 7, 8, 9, 100, 333, 1000, 17, 2000, 64]
            var seq: UInt64 = 0
            var mine: [String] = []
            var theirs: [String] = []
            for _ in 0..<8 {
                for k in 0..<3 {
                    let length = sizes[k % sizes.count]
                    let payload = Self.peerPattern(seq, length)
                    let start = writer.nextPacketOffset
                    _ = try writer.write(payload.withUnsafeBytes { $0 }, type: 6, flags: 1, transactionID: seq)
                    mine.append(Self.line(seq: seq, type: 6, flags: 1, off8: 2, len8: UInt16((16 + length + 7) / 8), start: start, dsize: 4096, length: length, hash: Self.fnv(payload), ok: true))
                    seq += 1
                }
                let (status, out) = try Self.run(peer.path, ["read", file.url.path])
                #expect(status == 0, "\(out)")
                theirs += Self.packetLines(out)
                sizes = Self.rotate(sizes)
            }
            #expect(mine.count == 24)
            #expect(theirs == mine)
            #expect(mine.contains { $0.contains("wrap=1") })
        }
    }

    /// The C reference writes the guest RX ring (type 7), Swift reads and checks every packet.
    @Test func cWritesSwiftReads() throws {
        try withPeer { peer, dir in
            let file = try ChannelFile(dir: dir, ringSize: 8192)
            var reader = try RingReader(ring: file.rx)
            var buffer = [UInt8](repeating: 0, count: 8192)
            var sizes = [1, 7, 8, 9, 100, 333, 1000, 17, 2000, 64]
            var seq: UInt64 = 0
            var mine: [String] = []
            var theirs: [String] = []
            for _ in 0..<8 {
                let (status, out) = try Self.run(peer.path, ["write", file.url.path, "-n", "3", "-s", sizes.map(String.init).joined(separator: ","), "-q", "\(seq)", "-t", "7"])
                #expect(status == 0, "\(out)")
                theirs += Self.packetLines(out)
                mine += try drain(&reader, &buffer, dsize: 4096)
                seq += 3
                sizes = Self.rotate(sizes)
            }
            #expect(theirs.count == 24)
            #expect(mine == theirs)
            #expect(!mine.contains { $0.hasSuffix("BAD") })
            #expect(theirs.contains { $0.contains("wrap=1") })
        }
    }

    func drain(_ reader: inout RingReader, _ buffer: inout [UInt8], dsize: UInt32) throws -> [String] {
        var lines: [String] = []
        reader.beginRead()
        while true {
            let start = reader.nextPacketOffset
            guard let d = try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) else { break }
            var length = d.paddedPayloadLength
            while length > 0 && buffer[length - 1] == 0 { length -= 1 }
            let ok = d.paddedPayloadLength - length < 8 && Array(buffer[..<length]) == Self.peerPattern(d.transactionID, length)
            lines.append(Self.line(seq: d.transactionID, type: d.type, flags: d.flags, off8: d.dataOffset8, len8: d.length8, start: start, dsize: dsize, length: length, hash: Self.fnv(buffer[..<length]), ok: ok))
        }
        return lines
    }

    /// Both implementations agree on the "free > total" rule: filling a fresh ring with the same
    /// sizes stops after the same number of packets, and each reads all of the other's.
    @Test func exactlyFullRingBothWays() throws {
        try withPeer { peer, dir in
            let file = try ChannelFile(dir: dir, ringSize: 8192)
            let (status, out) = try Self.run(peer.path, ["write", file.url.path, "-n", "100000", "-s", "24,40,8", "-q", "0"])
            #expect(status == 0 && out.contains("stop=full"), "\(out)")
            let theirs = Self.packetLines(out)
            var reader = try RingReader(ring: file.rx)
            var buffer = [UInt8](repeating: 0, count: 8192)
            #expect(try drain(&reader, &buffer, dsize: 4096) == theirs)

            var writer = try RingWriter(ring: file.tx)
            var sent = 0
            let sizes = [24, 40, 8]
            while true {
                let payload = Self.peerPattern(UInt64(sent), sizes[sent % 3])
                do {
                    _ = try writer.write(payload.withUnsafeBytes { $0 }, transactionID: UInt64(sent))
                } catch RingError.ringFull {
                    break
                }
                sent += 1
            }
            #expect(sent == theirs.count)
            #expect(sent == 85) // 4096-byte data area, the interop README's figure for DPDK and ring_ref
            let (status2, out2) = try Self.run(peer.path, ["read", file.url.path])
            #expect(status2 == 0)
            #expect(Self.packetLines(out2).count == sent)
            #expect(!out2.contains("BAD"))
        }
    }

    /// The C writer fills the ring and announces pending_send_sz; the Swift reader must signal it
    /// exactly once after draining.
    @Test func pendingSendSignalledOnce() throws {
        try withPeer { peer, dir in
            let file = try ChannelFile(dir: dir, ringSize: 8192)
            let (status, out) = try Self.run(peer.path, ["write", file.url.path, "-n", "100000", "-s", "24,40,8", "-q", "0", "--set-pending"])
            #expect(status == 0 && out.contains("pending_send_sz="), "\(out)")
            #expect(file.rx.header.pendingSendSize.load(ordering: .relaxed) > 0)
            var reader = try RingReader(ring: file.rx)
            var buffer = [UInt8](repeating: 0, count: 8192)
            var signals = 0
            reader.beginRead()
            for _ in 0..<10 { _ = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) } }
            if try reader.endRead().signalWriter { signals += 1 }
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) != nil {}
            if try reader.endRead().signalWriter { signals += 1 }
            #expect(signals == 1)
        }
    }
}
