import HVSystem
import TestSupport
import XCTest
@testable import KVPStore
#if canImport(Glibc)
import Glibc
#endif

/// A write that fails half-way (disk full) must not leave a partial record behind.
final class PoolFileFaultTests: XCTestCase {
    /// RLIMIT_FSIZE makes the append's pwrite stop part-way through the record and the next one fail
    /// with EFBIG, exactly like ENOSPC on a nearly full disk, without root or a tmpfs (the root-only
    /// tmpfs version is Tests/kvp-faults). XCTest runs its tests one at a time, so the process-wide
    /// limit is in force only for this one SET.
    func testAppendThatFailsHalfWayLeavesNoPartialRecord() throws {
        let t = TempDir()
        let store = try PoolStore(directory: t.path, writable: true)
        let file = try store.file(.guest)
        guard let first = PoolRecord(key: "First", value: "1"), let second = PoolRecord(key: "Second", value: "2") else {
            return XCTFail("bad test records")
        }
        try file.set(first)
        let path = t.path + "/" + KVPPool.guest.fileName

        var old = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &old), 0)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var small = old
        small.rlim_cur = rlim_t(PoolRecord.size + 1000)  // room for 1000 bytes of the second record
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small), 0)
        let failed: Error?
        do {
            try file.set(second)
            failed = nil
        } catch {
            failed = error
        }
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &old), 0)
        signal(SIGXFSZ, oldHandler)

        guard case .system(let failure)? = failed as? PoolError,
              failure == SystemCallError(call: "write", path: path, errno: .fileTooLarge) else {
            return XCTFail("expected a write error, got \(String(describing: failed))")
        }
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertEqual(data.count, PoolRecord.size, "the partial record must be cut off")
        XCTAssertEqual(try file.allRecords(), [first])
        // With room again, the append lands aligned.
        try file.set(second)
        XCTAssertEqual(try file.allRecords(), [first, second])
        XCTAssertEqual(FileManager.default.contents(atPath: path)?.count, 2 * PoolRecord.size)
    }
}
