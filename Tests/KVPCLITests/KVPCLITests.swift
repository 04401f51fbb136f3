import TestSupport
import XCTest
import KVPStore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `kvp` executable as a script would.
final class KVPCLITests: XCTestCase {
    struct Run { var status: Int32; var out: String; var err: String }

    var dir: TempDir!
    override func setUp() { dir = TempDir() }

    static var binary: String {
        // The test bundle sits in the products directory next to `kvp`.
        var path = CommandLine.arguments.first(where: { $0.hasSuffix(".xctest") }) ?? CommandLine.arguments[0]
        while let slash = path.lastIndex(of: "/"), !FileManagerLite.exists(String(path[..<slash]) + "/kvp") {
            path = String(path[..<slash])
        }
        if let slash = path.lastIndex(of: "/") { return String(path[..<slash]) + "/kvp" }
        return "kvp"
    }

    func kvp(_ args: [String], stdin: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args + ["--pool-dir", dir.path]
        let o = Pipe(), e = Pipe(), i = Pipe()
        p.standardOutput = o
        p.standardError = e
        p.standardInput = i
        try p.run()
        if let s = stdin { i.fileHandleForWriting.write(Data(s.utf8)) }
        try i.fileHandleForWriting.close()
        let out = o.fileHandleForReading.readDataToEndOfFile()
        let err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: out, as: UTF8.self),
                   err: String(decoding: err, as: UTF8.self))
    }

    func testSetGetDeleteExitCodes() throws {
        XCTAssertEqual(try kvp(["set", "Key1", "value 1"]).status, 0)
        XCTAssertEqual(try kvp(["get", "Key1"]).out, "value 1\n")
        XCTAssertEqual(try kvp(["get", "Key1", "--pool", "guest"]).status, 0)
        XCTAssertEqual(try kvp(["get", "Key1", "--pool", "0"]).status, 1)
        let missing = try kvp(["get", "Nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("not found"))
        XCTAssertEqual(try kvp(["delete", "Key1"]).status, 0)
        XCTAssertEqual(try kvp(["delete", "Key1"]).status, 1)
        // The file is what hv_kvp_daemon and cloud-init expect: whole zero-padded records.
        XCTAssertEqual(dir.bytes(".kvp_pool_1").count, 0)
    }

    func testStdinPoolsAndFileFormat() throws {
        XCTAssertEqual(try kvp(["set", "FromStdin", "--stdin"], stdin: "line1\nline2\n").status, 0)
        XCTAssertEqual(try kvp(["set", "HostName", "h", "--pool", "host"]).status, 0)
        XCTAssertEqual(try kvp(["set", "Ext", "e", "--pool", "0"]).status, 0)
        XCTAssertEqual(dir.bytes(".kvp_pool_1"), rawRecord("FromStdin", "line1\nline2"))
        XCTAssertEqual(dir.bytes(".kvp_pool_3"), rawRecord("HostName", "h"))
        XCTAssertEqual(try kvp(["list"]).out, "external\tExt\nguest\tFromStdin\nhost\tHostName\n")
        XCTAssertEqual(try kvp(["list", "--pool", "host"]).out, "HostName\n")
        XCTAssertEqual(try kvp(["dump"]).out,
                       "external\t0\tExt\te\nguest\t0\tFromStdin\tline1\\nline2\nhost\t0\tHostName\th\n")
        XCTAssertEqual(try kvp(["get", "FromStdin", "--json"]).out,
                       "{\"pool\":\"guest\",\"number\":1,\"key\":\"FromStdin\",\"value\":\"line1\\nline2\"}\n")
        XCTAssertEqual(try kvp(["list", "--json", "--pool", "external"]).out, "[{\"pool\":\"external\",\"key\":\"Ext\"}]\n")
        XCTAssertTrue(try kvp(["dump", "--json"]).out.hasPrefix("[{\"pool\":\"external\",\"number\":0,\"records\":[{\"key\":\"Ext\",\"value\":\"e\"}]}"))
    }

    /// Modify keeps the slot, as the daemon does; records written by
    /// cloud-init (appended under flock) are read and kept.
    func testCoexistsWithAppendedRecords() throws {
        XCTAssertEqual(try kvp(["set", "A", "1"]).status, 0)
        dir.write(".kvp_pool_1", rawRecord("CLOUD_INIT|1|diagnostic|x|u", "{\"msg\":\"hi\"}"), append: true)
        XCTAssertEqual(try kvp(["set", "A", "2"]).status, 0)
        XCTAssertEqual(dir.bytes(".kvp_pool_1"), rawRecord("A", "2") + rawRecord("CLOUD_INIT|1|diagnostic|x|u", "{\"msg\":\"hi\"}"))
    }

    func testLimitsAndUsageErrors() throws {
        let k300 = String(repeating: "k", count: 300)
        let warned = try kvp(["set", k300, "v"])
        XCTAssertEqual(warned.status, 0)
        XCTAssertTrue(warned.err.contains("warning: key is 300 UTF-16 units; the host reads at most 254"))
        XCTAssertEqual(try kvp(["set", k300, "v", "--strict-host-limits"]).status, 2)
        let long = try kvp(["set", String(repeating: "k", count: 512), "v"])
        XCTAssertEqual(long.status, 2)
        XCTAssertTrue(long.err.contains("key is 512 bytes of UTF-8; the limit is 511"))
        XCTAssertEqual(try kvp(["set", "k", String(repeating: "é", count: 1024)]).status, 2)
        XCTAssertEqual(try kvp(["set", "k", String(repeating: "v", count: 1023), "--strict-host-limits"]).status, 2)
        XCTAssertEqual(try kvp(["set", "k", String(repeating: "v", count: 1022), "--strict-host-limits"]).status, 0)
        XCTAssertEqual(try kvp(["set", "", "v"]).status, 2)
        XCTAssertEqual(try kvp(["set", "k"]).status, 2)
        XCTAssertEqual(try kvp(["set", "k", "v", "--stdin"]).status, 2)
        XCTAssertEqual(try kvp(["set", "k", "v", "--pool", "auto"]).status, 2)
        XCTAssertEqual(try kvp(["set", "k", "v", "--pool", "9"]).status, 2)
        XCTAssertEqual(try kvp(["frobnicate"]).status, 2)
        XCTAssertEqual(try kvp(["--help"]).status, 0)
    }
}

/// stat(2)-based existence check (keeps the test free of FileManager quirks).
enum FileManagerLite {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }
}
