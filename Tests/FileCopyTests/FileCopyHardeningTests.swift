import FileCopy
import Foundation
import HVProtocol
import ICFramework
import Testing

/// The state machine against a real file system in a private directory: every test asserts what is
/// on disk afterwards, not only the status (docs/COMPATIBILITY.md, "File copy").
@Suite struct FileCopyHardeningTests {
    /// Both ways of holding the data: O_TMPFILE, and the hidden name a file system without it gets.
    static let variants: [Bool] = [true, false]

    static func engine(tmpfile: Bool = true, openat2: Bool = true, roots: [String] = []) -> FileCopyEngine {
        var policy = FileCopyPolicy(allowedRoots: roots)
        policy.useTmpfile = tmpfile
        policy.useOpenat2 = openat2
        return FileCopyEngine(policy: policy)
    }

    static func pattern(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    /// START, the chunks, COMPLETE, as the host does; returns every status.
    static func copy(_ engine: FileCopyEngine, file: String, into path: String, data: [UInt8], flags: UInt32 = 0,
                     chunk: Int = 6144, reverse: Bool = false) -> [HResult] {
        var statuses = [engine.handle(body: HandLaid.start(file, in: path, flags: flags, size: UInt64(data.count)), names: .utf16)]
        guard statuses[0] == .ok else { return statuses }
        var offsets = Array(stride(from: 0, to: data.count, by: chunk))
        if reverse { offsets.reverse() }
        for offset in offsets {
            let end = min(data.count, offset + chunk)
            statuses.append(engine.handle(body: HandLaid.write(offset: UInt64(offset), data: Array(data[offset..<end])), names: .utf16))
        }
        statuses.append(engine.handle(body: HandLaid.complete, names: .utf16))
        return statuses
    }

    @Test(arguments: variants, [0, 1, 6144, 6145, 3 * 6144 + 17])
    func copiesEverySize(tmpfile: Bool, size: Int) {
        let scratch = Scratch()
        let data = Self.pattern(size)
        let statuses = Self.copy(Self.engine(tmpfile: tmpfile), file: "f.bin", into: scratch.path, data: data)
        #expect(statuses.allSatisfy { $0 == .ok })
        #expect(scratch.contents("f.bin") == data)
        #expect(scratch.mode("f.bin") == 0o644)
        #expect(scratch.tree() == ["f.bin"])
    }

    @Test func chunksNeedNotBeSequential() {
        let scratch = Scratch()
        let data = Self.pattern(5 * 6144 + 3)
        #expect(Self.copy(Self.engine(), file: "r", into: scratch.path, data: data, reverse: true).allSatisfy { $0 == .ok })
        #expect(scratch.contents("r") == data)
    }

    @Test(arguments: ["tmp/x", "x", "C:\\x", "", "./x", "~/x", "$HOME/x"])
    func relativePathsAreRefused(path: String) {
        let scratch = Scratch()
        let engine = Self.engine()
        #expect(engine.handle(body: HandLaid.start("a", in: path, flags: 2), names: .utf16) == .fail)
        #expect(!engine.isOpen)
        #expect(scratch.tree().isEmpty)
    }

    @Test func dotDotIsRefusedNotResolved() {
        let scratch = Scratch()
        try? FileManager.default.createDirectory(atPath: scratch.sub("in"), withIntermediateDirectories: true)
        let engine = Self.engine()
        for path in [scratch.sub("in/.."), scratch.sub("in/../in"), scratch.sub("in") + "/../x", "/.."] {
            #expect(engine.handle(body: HandLaid.start("a", in: path, flags: 3), names: .utf16) == .fail)
        }
        // A file name that is not one component.
        for name in ["..", ".", "", "a/b", "../a"] {
            #expect(engine.handle(body: HandLaid.start(name, in: scratch.sub("in") + "/"), names: .utf16) == .fail)
        }
        #expect(scratch.tree() == ["in"])
    }

    @Test(arguments: [true, false])
    func symlinkAtTheLeafIsNotFollowed(openat2: Bool) throws {
        let scratch = Scratch()
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch.sub("outside"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: scratch.sub("dest"), withIntermediateDirectories: true)
        scratch.write("outside/secret", Array("keep".utf8))
        try fm.createSymbolicLink(atPath: scratch.sub("dest/link"), withDestinationPath: scratch.sub("outside/secret"))
        let engine = Self.engine(openat2: openat2)
        // Into the directory under the link's name, and the link as the full destination path.
        #expect(engine.handle(body: HandLaid.start("link", in: scratch.sub("dest")), names: .utf16) == .alreadyExists)
        #expect(engine.handle(body: HandLaid.start("x", in: scratch.sub("dest/link")), names: .utf16) == .alreadyExists)
        #expect(Self.copy(engine, file: "link", into: scratch.sub("dest"), data: [1, 2, 3], flags: 1) == [.fail])
        #expect(Self.copy(engine, file: "x", into: scratch.sub("dest/link"), data: [1, 2, 3], flags: 1) == [.fail])
        #expect(scratch.contents("outside/secret") == Array("keep".utf8))
        #expect(try fm.destinationOfSymbolicLink(atPath: scratch.sub("dest/link")) == scratch.sub("outside/secret"))
        #expect(scratch.tree() == ["dest", "dest/link", "outside", "outside/secret"])
    }

    @Test(arguments: [true, false])
    func symlinkInAParentIsNotFollowed(openat2: Bool) throws {
        let scratch = Scratch()
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch.sub("outside"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: scratch.sub("dest"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: scratch.sub("dest/ln"), withDestinationPath: scratch.sub("outside"))
        let engine = Self.engine(openat2: openat2)
        #expect(Self.copy(engine, file: "a", into: scratch.sub("dest/ln") + "/", data: [1]) == [.fail])
        #expect(Self.copy(engine, file: "a", into: scratch.sub("dest/ln/sub") + "/", data: [1], flags: 3) == [.fail])
        #expect(Self.copy(engine, file: "a", into: scratch.sub("dest/ln/b"), data: [1], flags: 3) == [.fail])
        // The link as a middle component of the scratch path itself.
        #expect(scratch.tree(scratch.sub("outside")).isEmpty)
        #expect(scratch.tree() == ["dest", "dest/ln", "outside"])
    }

    @Test(arguments: variants)
    func cancelLeavesNothing(tmpfile: Bool) {
        let scratch = Scratch()
        let engine = Self.engine(tmpfile: tmpfile)
        #expect(engine.handle(body: HandLaid.start("c", in: scratch.path, size: 20000), names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: Self.pattern(6144)), names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.write(offset: 6144, data: Self.pattern(6144)), names: .utf16) == .ok)
        if !tmpfile { #expect(scratch.tree().count == 1) }  // the hidden name, never "c"
        #expect(!scratch.tree().contains("c"))
        #expect(engine.handle(body: HandLaid.cancel, names: .utf16) == .ok)
        #expect(scratch.tree().isEmpty)
        // CANCEL and COMPLETE when idle: S_OK, nothing happens; WRITE: E_FAIL.
        #expect(engine.handle(body: HandLaid.cancel, names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.complete, names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: [1]), names: .utf16) == .fail)
        #expect(scratch.tree().isEmpty)
        let reports = engine.takeReports()
        #expect(reports.map(\.outcome) == [.discarded])
        #expect(reports.first?.bytes == 12288)
    }

    @Test(arguments: variants)
    func newStartNegotiationAndCloseDiscard(tmpfile: Bool) {
        let scratch = Scratch()
        // A new START discards the first copy.
        let engine = Self.engine(tmpfile: tmpfile)
        #expect(engine.handle(body: HandLaid.start("first", in: scratch.path), names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: [1, 2]), names: .utf16) == .ok)
        #expect(Self.copy(engine, file: "second", into: scratch.path, data: [3]).allSatisfy { $0 == .ok })
        #expect(scratch.tree() == ["second"])

        // NEGOTIATE (the endpoint resets the service).
        var endpoint = ICEndpoint(service: FileCopyICService(engine: Self.engine(tmpfile: tmpfile)))
        _ = endpoint.process(HandLaid.packet(body: HandLaid.start("third", in: scratch.path)))
        _ = endpoint.process(HandLaid.packet(body: HandLaid.write(offset: 0, data: [9])))
        #expect(endpoint.service.engine.isOpen)
        _ = endpoint.process(HandLaid.packet(type: 0, body: HandLaid.negotiate(frameworks: [(3, 0)], services: [(1, 1)]), framework: (0, 0), version: (0, 0)))
        #expect(!endpoint.service.engine.isOpen)
        #expect(scratch.tree() == ["second"])

        // The channel closing: the engine goes away with its handler.
        do {
            let dropped = Self.engine(tmpfile: tmpfile)
            #expect(dropped.handle(body: HandLaid.start("fourth", in: scratch.path), names: .utf16) == .ok)
            #expect(dropped.handle(body: HandLaid.write(offset: 0, data: [9]), names: .utf16) == .ok)
        }
        #expect(scratch.tree() == ["second"])
    }

    @Test(arguments: variants)
    func existingFileUntouchedWithoutOverwrite(tmpfile: Bool) {
        let scratch = Scratch()
        scratch.write("t", Array("original".utf8))
        var before = stat()
        stat(scratch.sub("t"), &before)
        let engine = Self.engine(tmpfile: tmpfile)
        #expect(Self.copy(engine, file: "t", into: scratch.path, data: [1, 2, 3]) == [.alreadyExists])
        #expect(scratch.contents("t") == Array("original".utf8))
        #expect(scratch.tree() == ["t"])
        // With OVER_WRITE: replaced whole (a new inode, renamed over the old), mode 0644.
        chmod(scratch.sub("t"), 0o600)
        #expect(Self.copy(engine, file: "t", into: scratch.path, data: [1, 2, 3], flags: 1).allSatisfy { $0 == .ok })
        var after = stat()
        stat(scratch.sub("t"), &after)
        #expect(scratch.contents("t") == [1, 2, 3])
        #expect(after.st_ino != before.st_ino)
        #expect(scratch.mode("t") == 0o644)
        #expect(scratch.tree() == ["t"])
        // A directory, a FIFO under the name: never replaced, even with OVER_WRITE.
        try? FileManager.default.createDirectory(atPath: scratch.sub("d"), withIntermediateDirectories: false)
        mkfifo(scratch.sub("p"), 0o600)
        #expect(Self.copy(engine, file: "d", into: scratch.path, data: [1], flags: 1) == [.fail])
        #expect(Self.copy(engine, file: "p", into: scratch.path, data: [1], flags: 1) == [.fail])
        #expect(scratch.tree() == ["d", "p", "t"])
    }

    /// A file appearing under the name between START and COMPLETE: COMPLETE answers ALREADY_EXISTS
    /// and the newcomer is untouched (linkat / RENAME_NOREPLACE, not a check then a rename).
    @Test(arguments: variants)
    func raceAtCompleteNeverReplaces(tmpfile: Bool) {
        let scratch = Scratch()
        let engine = Self.engine(tmpfile: tmpfile)
        #expect(engine.handle(body: HandLaid.start("r", in: scratch.path), names: .utf16) == .ok)
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: [1]), names: .utf16) == .ok)
        scratch.write("r", [7, 7])
        #expect(engine.handle(body: HandLaid.complete, names: .utf16) == .alreadyExists)
        #expect(scratch.contents("r") == [7, 7])
        #expect(scratch.tree() == ["r"])
    }

    @Test func chunkSizesAreValidated() {
        let scratch = Scratch()
        let engine = Self.engine()
        func open() { #expect(engine.handle(body: HandLaid.start("s", in: scratch.path, size: 100), names: .utf16) == .ok) }
        open()
        // size above 6144 (the bytes are there).
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: Self.pattern(6145)), names: .utf16) == .fail)
        #expect(!engine.isOpen)
        open()
        // size larger than the packet.
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: [1, 2], size: 64, full: false), names: .utf16) == .fail)
        #expect(!engine.isOpen)
        open()
        // Past the announced file_size.
        #expect(engine.handle(body: HandLaid.write(offset: 90, data: Self.pattern(11)), names: .utf16) == .fail)
        #expect(!engine.isOpen)
        #expect(scratch.tree().isEmpty)
        // Nothing open: no I/O.
        #expect(engine.handle(body: HandLaid.write(offset: 0, data: [1]), names: .utf16) == .fail)
        #expect(scratch.tree().isEmpty)
    }

    @Test func aFileThatCannotFitIsRefusedAtStart() {
        let scratch = Scratch()
        let engine = Self.engine()
        #expect(engine.handle(body: HandLaid.start("huge", in: scratch.path, size: 1 << 60), names: .utf16) == .diskFull)
        #expect(!engine.isOpen)
        #expect(scratch.tree().isEmpty)
    }

    @Test(arguments: [("é.txt", [0xC3, 0xA9, 0x2E, 0x74, 0x78, 0x74]), ("😀", [0xF0, 0x9F, 0x98, 0x80]), ("日本語", [0xE6, 0x97, 0xA5, 0xE6, 0x9C, 0xAC, 0xE8, 0xAA, 0x9E])] as [(String, [UInt8])])
    func nonASCIINamesLandInUTF8(name: String, utf8: [UInt8]) throws {
        let scratch = Scratch()
        let directory = scratch.sub("Ωmega") + "/"
        #expect(Self.copy(Self.engine(), file: name, into: directory, data: [4, 2], flags: 2).allSatisfy { $0 == .ok })
        // The bytes on disk are exactly the UTF-8 of the host's UTF-16 name.
        let entries = try FileManager.default.contentsOfDirectory(atPath: scratch.sub("Ωmega"))
        #expect(entries.map { Array($0.utf8) } == [utf8])
        #expect(scratch.contents("Ωmega/" + name) == [4, 2])
    }

    /// Files 0644 and directories 0755 whatever the umask: run on a thread with its own umask
    /// (unshare(CLONE_FS)), so the rest of the test process keeps its own.
    @Test func modesIgnoreTheUmask() {
        let scratch = Scratch()
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var statuses: [HResult] = []
        nonisolated(unsafe) var umaskApplied = false
        let path = scratch.sub("a/b") + "/"
        Thread {
            if Self.unshareFileSystemContext() {
                umask(0o077)
                umaskApplied = true
                statuses = Self.copy(Self.engine(), file: "m", into: path, data: [1], flags: 2)
            }
            done.signal()
        }.start()
        done.wait()
        #expect(umaskApplied)
        #expect(statuses.allSatisfy { $0 == .ok } && !statuses.isEmpty)
        #expect(scratch.mode("a/b/m") == 0o644)
        #expect(scratch.mode("a") == 0o755)
        #expect(scratch.mode("a/b") == 0o755)
    }

    /// unshare(CLONE_FS) for the calling thread (Glibc's Swift module does not export `unshare`).
    static func unshareFileSystemContext() -> Bool {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "unshare") else { return false }
        let unshare = unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
        let cloneFS: Int32 = 0x0000_0200  // CLONE_FS, <linux/sched.h>
        return unshare(cloneFS) == 0
    }

    @Test func allowedRootsConfineTheDestination() {
        let scratch = Scratch()
        let root = scratch.sub("in")
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: scratch.sub("in-evil"), withIntermediateDirectories: true)
        let engine = Self.engine(roots: [root, "relative/ignored", "/x/../y"])
        #expect(Self.copy(engine, file: "a", into: root, data: [1]).allSatisfy { $0 == .ok })
        #expect(Self.copy(engine, file: "b", into: root + "/deep/er/", data: [1], flags: 2).allSatisfy { $0 == .ok })
        // Outside: refused before anything is created, CREATE_PATH or not.
        #expect(Self.copy(engine, file: "c", into: scratch.sub("in-evil"), data: [1]) == [.fail])
        #expect(Self.copy(engine, file: "c", into: scratch.sub("new/dir") + "/", data: [1], flags: 2) == [.fail])
        #expect(Self.copy(engine, file: "c", into: scratch.path, data: [1]) == [.fail])
        // The root itself as the full file path is outside (its parent is).
        #expect(Self.copy(engine, file: "c", into: root + "-file", data: [1]) == [.fail])
        #expect(scratch.tree() == ["in", "in-evil", "in/a", "in/deep", "in/deep/er", "in/deep/er/b"])
    }

    /// Windows semantics for path_name (docs/PROTOCOL.md §6.6): an existing directory or a trailing
    /// '/' receives file_name inside it; any other path is the file itself.
    @Test func destinationPathSemantics() {
        let scratch = Scratch()
        try? FileManager.default.createDirectory(atPath: scratch.sub("dir"), withIntermediateDirectories: true)
        let engine = Self.engine()
        #expect(Self.copy(engine, file: "src.txt", into: scratch.sub("dir"), data: [1]).allSatisfy { $0 == .ok })
        #expect(Self.copy(engine, file: "src.txt", into: scratch.sub("dir/renamed.txt"), data: [2]).allSatisfy { $0 == .ok })
        // A missing parent without CREATE_PATH: E_FAIL, nothing made; with it: made (0755).
        #expect(Self.copy(engine, file: "x", into: scratch.sub("new/sub") + "/", data: [3]) == [.fail])
        #expect(Self.copy(engine, file: "x", into: scratch.sub("new/sub") + "/", data: [3], flags: 2).allSatisfy { $0 == .ok })
        #expect(Self.copy(engine, file: "ignored", into: scratch.sub("made/file.bin"), data: [4], flags: 2).allSatisfy { $0 == .ok })
        #expect(scratch.tree() == ["dir", "dir/renamed.txt", "dir/src.txt", "made", "made/file.bin", "new", "new/sub", "new/sub/x"])
        #expect(scratch.contents("made/file.bin") == [4])
        #expect(scratch.mode("new/sub") == 0o755)
    }

    /// Every report names the destination, the bytes and the status (one log line per copy).
    @Test func reportsOneLinePerCopy() {
        let scratch = Scratch()
        let engine = Self.engine()
        _ = Self.copy(engine, file: "a", into: scratch.path, data: Self.pattern(7000))
        _ = Self.copy(engine, file: "a", into: scratch.path, data: [1])
        let reports = engine.takeReports()
        #expect(reports.count == 2)
        #expect(reports.first == FileCopyReport(outcome: .copied, path: scratch.sub("a"), bytes: 7000, status: .ok))
        #expect(reports.last?.outcome == .failed && reports.last?.status == .alreadyExists)
    }
}
