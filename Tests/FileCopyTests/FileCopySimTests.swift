import FileCopy
import Foundation
import HostSimulator
import HVProtocol
import Testing
import TestSupport

/// Copy-VMFile end to end: the simulated host's own codecs (FileCopyHostLogic) against the agent's
/// file-copy service over the simulated ring, as docs/PROTOCOL.md §6.6 scripts it. Every test
/// asserts the file system afterwards, in a private directory (the only allowed root).
@Suite(.serialized) struct FileCopySimTests {
    final class Fixture {
        let root: String
        let harness: SimHarness

        init() throws {
            root = NSTemporaryDirectory() + "hvagent-fcopy-sim." + UUID().uuidString
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            harness = try SimHarness(configure: { $0.services = [.heartbeat, .fcopy] }, fileCopy: FileCopyPolicy(allowedRoots: [root]))
            try harness.host.offerAll()
            _ = try harness.host.run(timeout: 10) { self.harness.host.isReady(.fcopy) }
        }

        deinit {
            harness.stop()
            try? FileManager.default.removeItem(atPath: root)
        }

        var host: SimulatedHyperVHost { harness.host }

        func tree() -> [String] {
            (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []).sorted()
        }

        func contents(_ name: String) -> [UInt8]? { FileManager.default.contents(atPath: root + "/" + name).map { [UInt8]($0) } }

        func copy(_ name: String, to destination: String? = nil, _ data: [UInt8], edit: (inout HostFileCopy) -> Void = { _ in }) throws -> HostFileCopyResult {
            var request = HostFileCopy(fileName: name, destination: destination ?? root, data: data)
            edit(&request)
            return try host.copyVMFile(request)
        }
    }

    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 8) } }

    @Test func negotiatesFramework3AndVersion11() throws {
        let fixture = try Fixture()
        #expect(fixture.host.negotiated[.fcopy]?.description.contains("3.0") == true)
        #expect(fixture.host.isReady(.fcopy))
    }

    @Test(arguments: [0, 1, 6144, 6145, 1 << 20])
    func copiesEverySize(size: Int) throws {
        let fixture = try Fixture()
        let data = Self.pattern(size)
        let result = try fixture.copy("f\(size).bin", data)
        #expect(result.status == .ok)
        #expect(result.writes.count == (size + 6143) / 6144)
        #expect(result.shortReplies == 0)
        #expect(fixture.contents("f\(size).bin") == data)
        #expect(fixture.tree() == ["f\(size).bin"])
    }

    @Test func trimmedAndOutOfOrderWrites() throws {
        let fixture = try Fixture()
        let data = Self.pattern(4 * 6144 + 5)
        #expect(try fixture.copy("t", data) { $0.trimWrites = true }.status == .ok)
        #expect(try fixture.copy("r", data) { $0.reverseChunks = true }.status == .ok)
        #expect(fixture.contents("t") == data && fixture.contents("r") == data)
    }

    @Test func nonASCIIAndAstralNames() throws {
        let fixture = try Fixture()
        for name in ["é.txt", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢.txt", "😀"] {
            #expect(try fixture.copy(name, [1]).status == .ok)
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: fixture.root).map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        let expected = ["é.txt", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢.txt", "😀"].map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(entries == expected)
    }

    @Test func createPathAndExistingTargets() throws {
        let fixture = try Fixture()
        #expect(try fixture.copy("a", to: fixture.root + "/x/y/", [1]).status == .fail)
        #expect(try fixture.copy("a", to: fixture.root + "/x/y/", [1]) { $0.createPath = true }.status == .ok)
        #expect(try fixture.copy("a", to: fixture.root + "/x/y/", [2]).status == .alreadyExists)
        #expect(fixture.contents("x/y/a") == [1])
        #expect(try fixture.copy("a", to: fixture.root + "/x/y/", [2]) { $0.overwrite = true }.status == .ok)
        #expect(fixture.contents("x/y/a") == [2])
        #expect(fixture.tree() == ["x", "x/y", "x/y/a"])
        // Outside the allowed root: refused, nothing created.
        #expect(try fixture.copy("a", to: fixture.root + "-elsewhere/", [1]) { $0.createPath = true }.status == .fail)
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "-elsewhere"))
    }

    @Test func cancelMidwayLeavesNothing() throws {
        let fixture = try Fixture()
        let result = try fixture.copy("c", Self.pattern(10 * 6144)) { $0.cancelAfterChunks = 4 }
        #expect(result.writes == [HResult](repeating: .ok, count: 4))
        #expect(result.cancel == .ok)
        #expect(fixture.tree().isEmpty)
    }

    @Test func hostileMessagesAreAnsweredAndTheServiceGoesOn() throws {
        let fixture = try Fixture()
        let host = fixture.host
        // WRITE before START; a body shorter than the fcopy header; unknown operation.
        #expect(try host.fcopySend(FileCopyHostLogic.writeBody(offset: 0, data: [1]), detail: "WRITE before START") == .fail)
        #expect(try host.fcopySend([0, 0, 0], detail: "3-byte body") == .fail)
        #expect(try host.fcopySend(Array(FileCopyHostLogic.completeBody.prefix(35)), detail: "35-byte body") == .fail)
        var unknown = FileCopyHostLogic.cancelBody
        unknown[0] = 9
        #expect(try host.fcopySend(unknown, detail: "op 9") == .fail)
        // An unterminated 260-unit name.
        let unterminated = FileCopyHostLogic.startBody(fileNameField: [UInt8](repeating: 0x41, count: 520),
                                                       pathNameField: try FileCopyHostLogic.nameField(fixture.root), flags: 0, fileSize: 0)
        #expect(try host.fcopySend(unterminated, detail: "unterminated name") == .fail)
        // size above 6144, size past the packet: refused, and the open copy ends.
        #expect(try host.fcopySend(try FileCopyHostLogic.startBody(fileName: "h", pathName: fixture.root, flags: 0, fileSize: 0), detail: "START") == .ok)
        #expect(try host.fcopySend(FileCopyHostLogic.writeBody(offset: 0, data: Self.pattern(6145)[...]), detail: "size 6145") == .fail)
        #expect(try host.fcopySend(try FileCopyHostLogic.startBody(fileName: "h", pathName: fixture.root, flags: 0, fileSize: 0), detail: "START") == .ok)
        #expect(try host.fcopySend(FileCopyHostLogic.writeBody(offset: 0, data: [1, 2], trimmed: true, declaredSize: 4000), detail: "size past packet") == .fail)
        #expect(try host.fcopySend(FileCopyHostLogic.completeBody, detail: "COMPLETE") == .ok)  // idle: a no-op
        #expect(fixture.tree().isEmpty)
        // Still serving.
        #expect(try fixture.copy("after", [5, 6]).status == .ok)
        #expect(fixture.tree() == ["after"])
        #expect(host.protocolErrors.isEmpty)
    }

    /// Guest Services switched off mid-copy (rescind), then on again (a new offer): the partial copy
    /// is gone and the next copy works.
    @Test func rescindMidCopyThenReoffer() throws {
        let fixture = try Fixture()
        let host = fixture.host
        #expect(try host.fcopySend(try FileCopyHostLogic.startBody(fileName: "r", pathName: fixture.root, flags: 0, fileSize: 0), detail: "START") == .ok)
        #expect(try host.fcopySend(FileCopyHostLogic.writeBody(offset: 0, data: Self.pattern(6144)[...]), detail: "WRITE") == .ok)
        try host.rescind(.fcopy)
        // The agent drops the channel (and with it the engine and its temporary file).
        #expect(try host.run(timeout: 5) {
            fixture.harness.recorder.events.contains { if case .channelClosed(.fcopy, _) = $0 { true } else { false } }
        })
        #expect(fixture.tree().isEmpty)
        try host.offer(.fcopy)
        #expect(try host.run(timeout: 10) { host.isReady(.fcopy) })
        #expect(try fixture.copy("r", [1, 2, 3]).status == .ok)
        #expect(fixture.tree() == ["r"])
    }

    /// The exchange log carries START, COMPLETE and CANCEL with their statuses, not one line per chunk.
    @Test func exchangeLogSummarisesCopies() throws {
        let fixture = try Fixture()
        _ = try fixture.copy("l", Self.pattern(5 * 6144))
        let lines = fixture.host.log.records.filter { $0.channel == "fcopy" && ($0.event == "request" || $0.event == "reply") && $0.type == "fcopy" }
        #expect(lines.map(\.event) == ["request", "reply", "request", "reply", "request", "reply"])
        #expect(lines.first?.detail.hasPrefix("START l ->") == true)
        #expect(lines.last?.status == "S_OK")
    }
}
