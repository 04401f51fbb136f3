import Foundation
import Testing
import FuzzTargets

/// Replays every committed fuzz input (seeds and past crashes) through its target in the plain
/// build: a regression that once crashed stays a test.
@Suite("Fuzz corpus replay", .serialized)
struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static var targetsWithCorpus: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).sorted()
    }

    @Test func everyTargetHasACorpusAndEveryCorpusATarget() {
        #expect(Set(Self.targetsWithCorpus) == Set(FuzzTarget.all.map(\.name)))
    }

    @Test(arguments: FuzzTarget.all.map(\.name))
    func replay(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let dir = Self.corpus.appendingPathComponent(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(!files.isEmpty)
        for file in files {
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            data.withUnsafeBytes { target.run($0) }
        }
    }
}
