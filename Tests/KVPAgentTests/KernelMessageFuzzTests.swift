import TestSupport
import XCTest
@testable import KVPAgent
import KVPStore
import HVProtocol

/// The host is not trusted: any 7432-byte message must get an answer with
/// a known status, never a trap, and only whole zero-padded records may
/// reach the pool files.
final class KernelMessageFuzzTests: XCTestCase {
    /// Deterministic xorshift so a failure is reproducible.
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    func testRandomMessagesNeverTrapAndGetKnownStatuses() throws {
        let dir = TempDir()
        let store = try PoolStore(directory: dir.path, writable: true)
        let fe = KernelDeviceFrontEnd(engine: KVPEngine(store: store, autoPool: FixedAutoPool(), ipInfo: FixedIPInfo()),
                                      devicePath: "unused", log: { _ in })
        let known: Set<UInt32> = [HResult.ok, .fail, .noMoreItems, .notSupported, .invalidArgument, .guidNotFound]
            .reduce(into: []) { $0.insert($1.rawValue) }
        var rng = Rng(s: 0x9E37_79B9_7F4A_7C15)
        let interesting: [UInt32] = [0, 1, 2, 4, 255, 256, 511, 512, 513, 2047, 2048, 2049, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]
        var statuses: [UInt32: Int] = [:]
        for round in 0..<20_000 {
            var m = [UInt8](repeating: 0, count: KernelMessage.size)
            m[0] = UInt8(rng.below(8) == 0 ? rng.below(256) : rng.below(6))
            m[1] = UInt8(rng.below(6) == 0 ? rng.below(256) : rng.below(5))
            // random size fields and a few random text bytes in key/value/adapter areas
            for off in [4, 8, 12, 16] {
                Msg.put32(&m, off, rng.below(3) == 0 ? UInt32(truncatingIfNeeded: rng.next()) : interesting[rng.below(interesting.count)])
            }
            for _ in 0..<rng.below(40) {
                let off = [8, 16, 20, 262, 528, 532][rng.below(6)] + rng.below(600)
                m[off] = rng.below(4) == 0 ? UInt8(rng.below(256)) : UInt8(0x41 + rng.below(26))
            }
            if rng.below(4) == 0 {
                // a well-formed request, sometimes with non-UTF-8 bytes in the value
                let key = "k\(rng.below(50))", pool = UInt8(rng.below(6))
                switch rng.below(3) {
                case 0: m = Msg.delete(pool, key)
                case 1: m = Msg.enumerate(pool, UInt32(rng.below(60)))
                default:
                    m = Msg.set(pool, key, String(repeating: "v", count: rng.below(300)))
                    if rng.below(5) == 0 { m[528] = 0xC3 }
                }
            }
            guard let msg = KernelMessage(bytes: m) else { return XCTFail("size") }
            let reply = fe.answer(msg).bytes
            XCTAssertEqual(reply.count, KernelMessage.size)
            statuses[Msg.status(reply), default: 0] += 1
            if !known.contains(Msg.status(reply)) {
                XCTFail("round \(round): unknown status \(String(Msg.status(reply), radix: 16))")
                break
            }
        }
        // The mix must actually exercise success and failure paths.
        XCTAssertGreaterThan(statuses[HResult.ok.rawValue, default: 0], 2000)
        XCTAssertGreaterThan(statuses[HResult.noMoreItems.rawValue, default: 0], 1000)
        XCTAssertGreaterThan(statuses[HResult.invalidArgument.rawValue, default: 0], 100)
        for p in KVPPool.allCases {
            let bytes = dir.bytes(p.fileName)
            XCTAssertEqual(bytes.count % PoolRecord.size, 0)
            for r in try store.file(p).allRecords() {
                XCTAssertNotNil(String(validating: r.key, as: UTF8.self))
                XCTAssertLessThanOrEqual(r.key.count, PoolRecord.maxKeyBytes)
                XCTAssertLessThanOrEqual(r.value.count, PoolRecord.maxValueBytes)
            }
        }
        XCTAssertEqual(dir.bytes(".kvp_pool_2").count, 0, "host writes to the auto pool are refused")
    }

    /// Random host bodies (ring front end path): decode, run, encode — no
    /// trap, a known status, and replies stay inside the body.
    func testRandomHostBodiesNeverTrap() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true),
                               autoPool: FixedAutoPool(), ipInfo: FixedIPInfo())
        var rng = Rng(s: 0xD1B5_4A32_D192_ED03)
        for _ in 0..<5_000 {
            let size = [2, 100, 2579, 2580, 2600, 7427, 7428, 8000][rng.below(8)]
            var body = [UInt8](repeating: 0, count: size)
            for i in 0..<min(size, 64) where rng.below(2) == 0 { body[i] = UInt8(rng.below(256)) }
            for _ in 0..<rng.below(300) { body[rng.below(size)] = UInt8(rng.below(256)) }
            if size > 1 { body[0] = UInt8(rng.below(7)); body[1] = UInt8(rng.below(6)) }
            guard var m = HostMessage(bytes: body) else { continue }
            let r = m.request()
            let status = m.encodeReply(engine.handle(r), for: r)
            XCTAssertEqual(m.bytes.count, size)
            XCTAssertTrue([HResult.ok, .fail, .noMoreItems, .notSupported, .invalidArgument, .guidNotFound].contains(status))
        }
        for p in KVPPool.allCases { XCTAssertEqual(dir.bytes(p.fileName).count % PoolRecord.size, 0) }
    }
}
