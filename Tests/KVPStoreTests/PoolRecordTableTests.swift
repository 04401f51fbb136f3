import TestSupport
import XCTest
@testable import KVPStore

/// The packed record cache against a plain model (an array of records searched linearly), under
/// random appends (duplicate keys included, as other writers leave them), value changes that
/// shrink and grow, and deletes: enough churn to force compaction and index growth many times.
final class PoolRecordTableTests: XCTestCase {
    func testMatchesArrayModelUnderRandomChurn() {
        var rng = SplitMix64(state: 0x5EED_7AB1E)
        var table = PoolRecordTable()
        var model: [PoolRecord] = []
        func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 1...255, using: &rng) } }
        let keys = (0..<300).map { n -> [UInt8] in n % 10 == 0 ? bytes(Int.random(in: 0...511, using: &rng)) : Array("key-\(n)".utf8) }

        for step in 0..<10_000 {
            let key = keys[Int.random(in: 0..<keys.count, using: &rng)]
            let value = bytes(Int.random(in: 0...(step % 7 == 0 ? 2047 : 40), using: &rng))
            let first = model.firstIndex { $0.key == key }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<2:
                // Another writer appended, possibly a duplicate key.
                table.append(key: key, value: value)
                model.append(PoolRecord(trustedKey: key, value: value))
            case 2..<7:
                if let first {
                    table.replaceValue(at: first, with: value)
                    model[first].value = value
                } else {
                    table.append(key: key, value: value)
                    model.append(PoolRecord(trustedKey: key, value: value))
                }
            default:
                if let first {
                    table.remove(at: first)
                    model.remove(at: first)
                }
            }
            XCTAssertEqual(table.count, model.count)
            XCTAssertEqual(table.firstIndex(of: key), model.firstIndex { $0.key == key }, "step \(step)")
            if step % 1000 == 0 {
                XCTAssertEqual(table.allRecords, model, "step \(step)")
                for record in model {
                    XCTAssertEqual(table.firstIndex(of: record.key), model.firstIndex { $0.key == record.key })
                }
            }
        }
        XCTAssertEqual(table.allRecords, model)
        XCTAssertNil(table.record(at: -1))
        XCTAssertNil(table.record(at: model.count))
    }

    func testFieldsAreCutToTheFileFieldsAndCompared() {
        var table = PoolRecordTable()
        let longKey = [UInt8](repeating: 0x41, count: 600)
        table.append(key: longKey, value: [0x42])
        XCTAssertEqual(table.record(at: 0)?.key.count, PoolRecord.keyFieldSize)
        XCTAssertEqual(table.firstIndex(of: longKey.prefix(PoolRecord.keyFieldSize)), 0)
        XCTAssertNil(table.firstIndex(of: longKey.prefix(PoolRecord.keyFieldSize - 1)))
        XCTAssertTrue(table.matches(0, key: longKey.prefix(512), value: [0x42]))
        XCTAssertFalse(table.matches(0, key: longKey.prefix(512), value: [0x43]))
        XCTAssertFalse(table.matches(1, key: [], value: []))
    }
}
