import XCTest
@testable import KVPAgent

/// Cross-checks ``HostString`` against the shared kernel emulator's model of
/// the kernel's conversions (kernel_utf16_to_utf8 / kernel_utf8_to_utf16_len
/// in the peer harness's kvp_kernel_emu.py, see README.md) on random
/// input: ASCII, 2-, 3- and 4-byte characters, lone surrogates, NULs.
final class HostStringModelTests: XCTestCase {
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    func testMatchesKernelModel() throws {
        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/peers/hv_kvp_daemon")
        guard FileManager.default.fileExists(atPath: peer.appendingPathComponent("kvp_kernel_emu.py").path) else {
            throw XCTSkip("shared kernel emulator not found at \(peer.path)")
        }
        var rng = Rng(s: 0x1234_5678_9ABC_DEF1)
        let pool: [UInt16] = [0x41, 0x7A, 0xE9, 0x4E2D, 0xFFFD, 0xD83D, 0xDE00, 0xDC00, 0xD800, 0x20AC]
        var cases: [[String: Any]] = []
        var swiftOut: [([UInt8], Int)] = []
        for _ in 0..<400 {
            var units = (0..<rng.below(1100)).map { _ in pool[rng.below(pool.count)] }
            if rng.below(10) == 0 { units.insert(0, at: rng.below(units.count + 1)) }
            let maxBytes = [511, 2047, 128, 7][rng.below(4)]
            let fieldUnits = max(units.count + 1, 1024)
            var field = [UInt8](repeating: 0, count: fieldUnits * 2)
            for (i, u) in units.enumerated() { field[2 * i] = UInt8(u & 0xFF); field[2 * i + 1] = UInt8(u >> 8) }
            let utf8 = HostString.utf8(fromUTF16LE: field[...], maxUnits: fieldUnits, maxBytes: maxBytes)
            let maxUnits = [254, 1022, 3][rng.below(3)]
            let back = HostString.utf16LE(fromUTF8: utf8, maxUnits: maxUnits)
            swiftOut.append((utf8, back?.units ?? -1))
            cases.append(["units": units.map(Int.init) + [0], "maxBytes": maxBytes, "maxUnits": maxUnits])
        }
        let script = """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            import kvp_kernel_emu as e
            out = []
            for c in json.load(sys.stdin):
                b = e.kernel_utf16_to_utf8(c["units"], 2 * len(c["units"]), c["maxBytes"])
                out.append([b.hex(), e.kernel_utf8_to_utf16_len(b, c["maxUnits"])])
            json.dump(out, sys.stdout)
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, peer.path]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: cases))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        guard let model = try JSONSerialization.jsonObject(with: data) as? [[Any]] else {
            return XCTFail("bad model output")
        }
        XCTAssertEqual(model.count, swiftOut.count)
        for (i, (m, s)) in zip(model, swiftOut).enumerated() {
            let hex = s.0.map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(m[0] as? String, hex, "case \(i): UTF-16 -> UTF-8")
            XCTAssertEqual(m[1] as? Int, s.1, "case \(i): UTF-8 -> UTF-16 units")
        }
    }
}
