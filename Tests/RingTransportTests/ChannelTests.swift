import CHVSupport
import Foundation
import TestSupport
import Testing
@testable import RingTransport
@testable import SimTransport
import HVProtocol

/// Lets a test hand a non-Sendable object to another thread it then joins.
final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

@Suite("Channels over the simulated backend")
struct ChannelTests {
    /// Offers a channel over a socket pair and returns both ends.
    func channelPair(ringSize: Int) throws -> (host: VMBusChannel, guest: VMBusChannel, hostEndpoint: SimHostEndpoint, guestEndpoint: SimGuestEndpoint) {
        let (a, b) = try SimSocket.pair()
        let host = SimHostEndpoint(socket: a)
        let guest = SimGuestEndpoint(socket: b)
        let classID = try #require(VMBusGUID("57164f39-9115-4e78-ab55-382f3bd5422d"))
        let instanceID = try #require(VMBusGUID("00000001-0000-4000-8000-000000000000"))
        let hostEnd = try host.offer(classID: classID, instanceID: instanceID, ringSize: ringSize)
        guard case .offer(let c, let i, let guestEnd) = try guest.nextEvent(timeoutMilliseconds: 1000) else {
            throw ChannelError.invalidConfiguration("no offer")
        }
        #expect(c == classID && i == instanceID)
        return (hostEnd, guestEnd, host, guest)
    }

    /// A randomized two-thread run: the host streams 1,000,000 packets of random sizes, the agent
    /// verifies every byte and the order. Both sides really sleep on their eventfds, so a lost
    /// wake-up shows as a stall; the writer blocks on a full ring through pending_send_sz.
    @Test func millionRandomPacketsTwoThreadsWithRealWakeups() throws {
        let (host, guest, _, _) = try channelPair(ringSize: 4096 + 32768)
        let count: UInt64 = 1_000_000
        let hostBox = Box(host)
        let writerFailure = Box<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        let writer = Thread {
            var rng = SplitMix64(state: 7)
            var buffer = [UInt8](repeating: 0, count: 2048)
            do {
                for seq in 0..<count {
                    let length = 8 + Int(rng.next() % 1500)
                    buffer.withUnsafeMutableBytes { raw in
                        raw.storeBytes(of: seq, as: UInt64.self)
                        for i in 8..<length { raw[i] = UInt8(truncatingIfNeeded: seq &+ UInt64(i)) }
                    }
                    let sent = try buffer.withUnsafeBytes {
                        try hostBox.value.send(UnsafeRawBufferPointer(rebasing: $0[..<length]), transactionID: seq, waitingUpTo: 5000)
                    }
                    if !sent { writerFailure.value = "writer stalled at \(seq)"; break }
                }
                try hostBox.value.flush()
            } catch {
                writerFailure.value = "writer: \(error)"
            }
            done.signal()
        }
        writer.start()
        var rng = SplitMix64(state: 7)
        var expected: UInt64 = 0
        var bad = 0
        var stalls = 0
        while expected < count && stalls == 0 {
            try guest.receiveBatch { descriptor, payload in
                let length = 8 + Int(rng.next() % 1500)
                let seq = payload.load(as: UInt64.self)
                var ok = seq == expected && descriptor.transactionID == expected && payload.count == (length + 7) / 8 * 8
                if ok {
                    for i in 8..<length where payload[i] != UInt8(truncatingIfNeeded: seq &+ UInt64(i)) { ok = false; break }
                    for i in length..<payload.count where payload[i] != 0 { ok = false; break }
                }
                if !ok { bad += 1 }
                expected += 1
            }
            if try guest.finishBatch() { continue }
            if expected < count, try !guest.waitForSignal(timeoutMilliseconds: 5000), guest.inbound.isEmpty { stalls += 1 }
        }
        done.wait()
        #expect(writerFailure.value == nil)
        #expect(stalls == 0)
        #expect(expected == count)
        #expect(bad == 0)
        #expect(guest.inbound.counters.packets == count)
        #expect(guest.inbound.counters.corruptions == 0)
        // The signal policy keeps wake-ups far below one per packet.
        #expect(host.signalsSent < count / 4)
    }

    @Test func echoBothWaysAndRescind() throws {
        let (host, guest, hostEndpoint, guestEndpoint) = try channelPair(ringSize: 4096 + 16384)
        try host.send(Array("ping".utf8), transactionID: 9)
        try host.flush()
        #expect(try guest.waitForSignal(timeoutMilliseconds: 1000))
        var got: [UInt8] = []
        try guest.receiveBatch { d, p in
            got = Array(p.prefix(4))
            #expect(d.transactionID == 9 && d.type == PacketType.dataInBand)
            try guest.send(Array("pong".utf8), transactionID: d.transactionID)
        }
        #expect(try guest.finishBatch() == false)
        #expect(got == Array("ping".utf8))
        #expect(try host.waitForSignal(timeoutMilliseconds: 1000))
        try host.receiveBatch { d, p in got = Array(p.prefix(4)) }
        #expect(got == Array("pong".utf8))
        #expect(guest.outboundDrained)
        try hostEndpoint.rescind(classID: try #require(VMBusGUID("57164f39-9115-4e78-ab55-382f3bd5422d")), instanceID: try #require(VMBusGUID("00000001-0000-4000-8000-000000000000")))
        guard case .rescind = try guestEndpoint.nextEvent(timeoutMilliseconds: 1000) else {
            Issue.record("expected a rescind")
            return
        }
        try guestEndpoint.report(.closed, classID: try #require(VMBusGUID("57164f39-9115-4e78-ab55-382f3bd5422d")), instanceID: try #require(VMBusGUID("00000001-0000-4000-8000-000000000000")))
        #expect(try hostEndpoint.nextMessage(timeoutMilliseconds: 1000)?.kind == .closed)
    }

    /// A corrupt ring fails the channel: every later call reports the first error.
    @Test func corruptRingFailsTheChannel() throws {
        let (host, guest, _, _) = try channelPair(ringSize: 4096 + 16384)
        try host.send(Array("x".utf8))
        // Forge offset8 = 1 in the packet the host just wrote into the RX ring.
        (guest.memory.baseAddress + guest.ringSize + 4096 + 2).storeBytes(of: UInt16(1), as: UInt16.self)
        #expect(throws: ChannelError.ring(.corrupt(.malformedDescriptor(.offsetTooSmall)))) { try guest.receiveBatch { _, _ in } }
        #expect(throws: ChannelError.ring(.corrupt(.malformedDescriptor(.offsetTooSmall)))) { try guest.send(Array("y".utf8)) }
        #expect(guest.failure == .ring(.corrupt(.malformedDescriptor(.offsetTooSmall))))
        #expect(guest.failure?.isCorruption == true)
    }

    /// A failed system call reads as before the errno type was shared: call(path), the C library's
    /// words, the number.
    @Test func systemCallFailuresKeepTheirMessage() {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        do {
            _ = try UIODevice.openChannel(path: "/nonexistent/uio9", mapSize: 2 * pageSize)
            Issue.record("opened a missing device")
        } catch {
            #expect("\(error)" == "open(/nonexistent/uio9) failed: No such file or directory (errno 2)")
            #expect(!error.isCorruption)
        }
    }

    /// Only corruption fails a channel: a full ring is "try later", and a packet that can never
    /// fit is the caller's mistake; after either the channel keeps working.
    @Test func fullRingAndOversizedPacketLeaveTheChannelUsable() throws {
        let (host, guest, _, _) = try channelPair(ringSize: 4096 + 4096)
        #expect(throws: ChannelError.ring(.packetTooLarge(payloadLength: 8192))) { try guest.send([UInt8](repeating: 1, count: 8192)) }
        var sent = 0
        while true {
            do {
                try guest.send([UInt8](repeating: 2, count: 256))
                sent += 1
            } catch {
                #expect(error == .ring(.ringFull))
                #expect(!error.isCorruption)
                break
            }
        }
        #expect(guest.failure == nil)
        var received = 0
        try host.receiveBatch { _, _ in received += 1 }
        _ = try host.finishBatch()
        #expect(received == sent)
        try guest.send(Array("after".utf8))
    }

    /// Offers are validated like any other host input.
    @Test func malformedOffersAreRefused() throws {
        let (a, b) = try SimSocket.pair()
        let guest = SimGuestEndpoint(socket: b)
        let id = try #require(VMBusGUID("00000001-0000-4000-8000-000000000000"))
        // No descriptors.
        try a.send(SimControlMessage(kind: .offer, classID: id, instanceID: id, ringSize: 20480, headerSize: 4096))
        #expect(throws: ChannelError.self) { _ = try guest.nextEvent(timeoutMilliseconds: 1000) }
        // A memfd smaller than the rings it claims to hold.
        let small = try SimHostEndpoint(socket: a).offer(classID: id, instanceID: id, ringSize: 8192) // real offer, 16 KiB
        _ = small
        _ = try guest.nextEvent(timeoutMilliseconds: 1000)
        let fds = [Int32](repeating: 0, count: 3).map { _ in chv_eventfd(0) }
        try a.send(SimControlMessage(kind: .offer, classID: id, instanceID: id, ringSize: 1 << 20, headerSize: 4096), descriptors: fds)
        fds.forEach { close($0) }
        #expect(throws: ChannelError.self) { _ = try guest.nextEvent(timeoutMilliseconds: 1000) }
        // Garbage bytes.
        #expect(SimControlMessage(decoding: [UInt8](repeating: 7, count: 48)) == nil)
        #expect(SimControlMessage(decoding: [UInt8](repeating: 7, count: 12)) == nil)
    }

    @Test func uioMapSizeParsing() {
        #expect(UIODevice.parseMapSize("0x402000\n") == 0x402000)
        #expect(UIODevice.parseMapSize("0x0\n") == nil)
        #expect(UIODevice.parseMapSize("zz") == nil)
        #expect(UIODevice.parseMapSize("") == nil)
    }

    /// `/dev/uioN` is opened through the same channel code: a fake sysfs tree gives map 0's size
    /// and a plain file stands in for the device memory.
    @Test func uioChannelOpensFromFakeSysfs() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("uio-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let maps = dir.appendingPathComponent("sys/class/uio/uio7/maps/map0")
        try FileManager.default.createDirectory(at: maps, withIntermediateDirectories: true)
        try "0x10000\n".write(to: maps.appendingPathComponent("size"), atomically: true, encoding: .utf8)
        let node = dir.appendingPathComponent("uio7")
        #expect(FileManager.default.createFile(atPath: node.path, contents: Data(count: 0x10000)))
        let fd = open(node.path, O_RDWR)
        let m = try SharedMemoryRegion(mapping: fd, byteCount: 0x10000)
        close(fd)
        RingHeader.format(m.baseAddress, headerSize: 4096)
        RingHeader.format(m.baseAddress + 0x8000, headerSize: 4096)
        // A stale RX mask must be cleared when the channel opens (docs/PROTOCOL.md §8 Q7).
        (m.baseAddress + 0x8000 + 8).storeBytes(of: UInt32(1), as: UInt32.self)
        let channel = try UIODevice.openChannel(path: node.path, sysfsRoot: dir.appendingPathComponent("sys").path)
        #expect(channel.ringSize == 0x8000)
        #expect(channel.role == .guest)
        #expect(channel.inbound.ring.dataSize == 0x8000 - 4096)
        #expect((m.baseAddress + 0x8000 + 8).load(as: UInt32.self) == 0)
        try channel.send(Array("hello".utf8))
        #expect(m.baseAddress.load(as: UInt32.self) == 32) // TX write_index moved
    }
}
