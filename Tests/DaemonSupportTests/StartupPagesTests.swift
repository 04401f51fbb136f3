import Foundation
import Testing
@testable import DaemonSupport

@Suite("Start-up code pages handed back")
struct StartupPagesTests {
    /// Pages of the executable's read-only mappings (code, constants) this process maps now,
    /// from /proc/self/pagemap's present bit (readable without privileges).
    static func residentReadOnlyImagePages() throws -> Int {
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return 0 }
        let pagemap = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/pagemap"))
        defer { try? pagemap.close() }
        var present = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[5] == exe, !fields[1].contains("w") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard bounds.count == 2 else { continue }
            try pagemap.seek(toOffset: bounds[0] / 4096 * 8)
            let entries = pagemap.readData(ofLength: Int((bounds[1] - bounds[0]) / 4096) * 8)
            present += entries.withUnsafeBytes { raw in
                stride(from: 0, to: raw.count, by: 8).filter { raw.loadUnaligned(fromByteOffset: $0, as: UInt64.self) >> 63 == 1 }.count
            }
        }
        return present
    }

    /// After release() most of what start-up mapped is gone (other tests running meanwhile map a
    /// few windows back), and the code runs on: it is mapped again on use.
    @Test func releaseDropsTheReadOnlyMappingsAndCodeKeepsRunning() throws {
        let before = try Self.residentReadOnlyImagePages()
        let bytes = try StartupPages.release()
        let after = try Self.residentReadOnlyImagePages()
        #expect(bytes > 0 && bytes % 4096 == 0)
        #expect(before >= 64, "the test binary had \(before) pages of code mapped")
        #expect(after * 2 <= before, "resident read-only pages: \(before) before, \(after) after")
        #expect(try StartupPages.release() == bytes)
    }
}
