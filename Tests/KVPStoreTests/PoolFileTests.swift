import TestSupport
import XCTest
@testable import KVPStore
#if canImport(Glibc)
import Glibc
#endif

final class PoolFileTests: XCTestCase {
    func rec(_ k: String, _ v: String) -> PoolRecord {
        guard let r = PoolRecord(key: k, value: v) else { fatalError("bad test record") }
        return r
    }

    func testRecordEncodingIsZeroPaddedAndRoundTrips() {
        let r = rec("HostName", "vm-1")
        let e = r.encoded()
        XCTAssertEqual(e.count, 2560)
        XCTAssertEqual(Array(e[0..<8]), Array("HostName".utf8))
        XCTAssertTrue(e[8..<512].allSatisfy { $0 == 0 })
        XCTAssertEqual(Array(e[512..<516]), Array("vm-1".utf8))
        XCTAssertTrue(e[516...].allSatisfy { $0 == 0 })
        XCTAssertEqual(PoolRecord(decoding: e[...]), r)
    }

    func testRecordLimits() {
        XCTAssertNotNil(PoolRecord(key: [UInt8](repeating: 65, count: 511), value: [UInt8](repeating: 66, count: 2047)))
        XCTAssertNil(PoolRecord(key: [UInt8](repeating: 65, count: 512), value: []))
        XCTAssertNil(PoolRecord(key: [65], value: [UInt8](repeating: 66, count: 2048)))
        XCTAssertNil(PoolRecord(key: [65, 0, 66], value: []))
    }

    func testCreatesFileWith0644AndDirectory() throws {
        let t = TempDir()
        let dir = t.path + "/hyperv"
        let old = umask(0o022)
        defer { umask(old) }
        let store = try PoolStore(directory: dir, writable: true)
        try store.openAll()
        var st = stat()
        XCTAssertEqual(stat(dir, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o755)
        for p in KVPPool.allCases {
            XCTAssertEqual(stat(dir + "/" + p.fileName, &st), 0)
            XCTAssertEqual(st.st_mode & 0o777, 0o644)
            XCTAssertEqual(st.st_size, 0)
        }
        for n in 0..<5 { unlink(dir + "/.kvp_pool_\(n)") }
        rmdir(dir)
    }

    /// Order and byte effects of hv_kvp_daemon (docs/PROTOCOL.md §7.16): modify in place,
    /// append new keys, delete by shifting; and no stale tail (B2).
    func testSetModifyDeleteMatchDaemonOrderWithoutStaleBytes() throws {
        let t = TempDir()
        let f = try PoolFile(path: t.path + "/p", writable: true)
        XCTAssertEqual(try f.set(rec("HostName", "from-host-1")), .appended(index: 0))
        XCTAssertEqual(try f.set(rec("HostingSystemEditionId", "8")), .appended(index: 1))
        XCTAssertEqual(try f.set(rec("C", "c")), .appended(index: 2))
        XCTAssertEqual(try f.set(rec("HostName", "v2")), .modified(index: 0))
        let raw = t.bytes("p")
        XCTAssertEqual(raw.count, 3 * 2560)
        XCTAssertEqual(Array(raw[512..<515]), Array("v2".utf8) + [0])
        XCTAssertTrue(raw[514..<2560].allSatisfy { $0 == 0 }, "old longer value must not survive")
        XCTAssertTrue(try f.delete(key: Array("HostName".utf8)))
        XCTAssertFalse(try f.delete(key: Array("HostName".utf8)))
        XCTAssertEqual(try f.allRecords().map(\.keyString), ["HostingSystemEditionId", "C"])
        XCTAssertEqual(t.bytes("p"), rec("HostingSystemEditionId", "8").encoded() + rec("C", "c").encoded())
        XCTAssertTrue(try f.delete(key: Array("C".utf8)))
        XCTAssertEqual(t.bytes("p").count, 2560)
    }

    /// Exact match only: no prefix match (hv_kvp_daemon's memcmp(key_size)).
    func testKeyMatchIsExact() throws {
        let t = TempDir()
        let f = try PoolFile(path: t.path + "/p", writable: true)
        try f.set(rec("HostNameLong", "x"))
        XCTAssertNil(try f.first(key: Array("Host".utf8)))
        XCTAssertEqual(try f.set(rec("Host", "y")), .appended(index: 1))
        XCTAssertEqual(try f.first(key: Array("HostNameLong".utf8))?.valueString, "x")
    }

    /// Duplicate keys written by appenders are kept; SET/DELETE act on the first.
    func testDuplicatesFromAppendersActOnFirst() throws {
        let t = TempDir()
        t.write("p", rawRecord("K", "1") + rawRecord("K", "2") + rawRecord("L", "3"))
        let f = try PoolFile(path: t.path + "/p", writable: true)
        XCTAssertEqual(try f.set(rec("K", "one")), .modified(index: 0))
        XCTAssertEqual(try f.allRecords().map(\.valueString), ["one", "2", "3"])
        XCTAssertTrue(try f.delete(key: Array("K".utf8)))
        XCTAssertEqual(try f.allRecords().map(\.valueString), ["2", "3"])
        XCTAssertEqual(try f.first(key: Array("K".utf8))?.valueString, "2")
    }

    /// Other programs' appends are seen (tail read) and their replacement of
    /// the file (new inode) or truncation triggers a full re-read.
    func testSeesForeignAppendsTruncationAndReplacement() throws {
        let t = TempDir()
        let f = try PoolFile(path: t.path + "/p", writable: true)
        try f.set(rec("A", "a"))
        t.write("p", rawRecord("CLOUD_INIT|1", "{}"), append: true)
        XCTAssertEqual(try f.allRecords().map(\.keyString), ["A", "CLOUD_INIT|1"])
        try f.set(rec("B", "b"))
        XCTAssertEqual(try f.count(), 3)
        // truncation at boot (cloud-init opens for writing without a lock)
        t.write("p", [])
        XCTAssertEqual(try f.count(), 0)
        // replaced by rename: new inode
        t.write("q", rawRecord("X", "x"))
        XCTAssertEqual(rename(t.path + "/q", t.path + "/p"), 0)
        XCTAssertEqual(try f.allRecords().map(\.keyString), ["X"])
        try f.set(rec("Y", "y"))
        XCTAssertEqual(t.bytes("p"), rawRecord("X", "x") + rawRecord("Y", "y"))
    }

    /// A partial trailing record (writer died mid-append) is ignored, and our
    /// next append replaces it so the file is whole records again.
    func testPartialTrailingRecordIgnoredAndReplaced() throws {
        let t = TempDir()
        t.write("p", rawRecord("A", "a") + Array(rawRecord("Torn", "t")[0..<1000]))
        let f = try PoolFile(path: t.path + "/p", writable: true)
        XCTAssertEqual(try f.allRecords().map(\.keyString), ["A"])
        try f.set(rec("B", "b"))
        XCTAssertEqual(t.bytes("p"), rawRecord("A", "a") + rawRecord("B", "b"))
        // and a torn tail that gets completed later by its writer is read whole
        t.write("p", Array(rawRecord("C", "c")[0..<100]), append: true)
        XCTAssertEqual(try f.count(), 2)
        t.write("p", Array(rawRecord("C", "c")[100...]), append: true)
        XCTAssertEqual(try f.allRecords().map(\.keyString), ["A", "B", "C"])
    }

    func testStartupDropsPartialTail() throws {
        let t = TempDir()
        t.write(".kvp_pool_1", rawRecord("A", "a") + Array(rawRecord("Torn", "t")[0..<1000]))
        let store = try PoolStore(directory: t.path, writable: true)
        let repaired = try store.openAll()
        XCTAssertEqual(repaired.map(\.pool), [.guest])
        XCTAssertEqual(repaired.map(\.droppedBytes), [1000])
        XCTAssertEqual(t.bytes(".kvp_pool_1"), rawRecord("A", "a"))
        XCTAssertTrue(try store.openAll().isEmpty)
    }

    /// Fields without a NUL written by other programs are read whole, never
    /// past the field.
    func testUnterminatedFieldsFromOtherWriters() throws {
        let t = TempDir()
        t.write("p", [UInt8](repeating: 0x4c, count: 2560))
        let f = try PoolFile(path: t.path + "/p", writable: false)
        let r = try f.record(at: 0)
        XCTAssertEqual(r?.key.count, 512)
        XCTAssertEqual(r?.value.count, 2048)
        XCTAssertNil(try f.record(at: 1))
        XCTAssertNil(try f.record(at: -1))
    }

    func testReadOnlyMissingFileIsEmptyAndRefusesWrites() throws {
        let t = TempDir()
        let f = try PoolFile(path: t.path + "/missing", writable: false)
        XCTAssertEqual(try f.count(), 0)
        XCTAssertThrowsError(try f.set(rec("A", "a"))) { e in
            XCTAssertEqual(e as? PoolError, .readOnly(path: t.path + "/missing"))
        }
        t.write("missing", rawRecord("A", "a"))
        XCTAssertEqual(try f.count(), 1)
    }

    func testPoolNames() {
        XCTAssertEqual(KVPPool(argument: "host"), .autoExternal)
        XCTAssertEqual(KVPPool(argument: "3"), .autoExternal)
        XCTAssertEqual(KVPPool(argument: "Guest"), .guest)
        XCTAssertNil(KVPPool(argument: "5"))
        XCTAssertNil(KVPPool(argument: "pool"))
    }
}
