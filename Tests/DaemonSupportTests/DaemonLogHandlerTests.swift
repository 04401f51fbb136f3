import Foundation
import Logging
import Testing
@testable import DaemonSupport

@Suite("Logging to journald")
struct DaemonLogHandlerTests {
    @Test func levelsMapToSyslogPriorities() {
        let expected: [(Logger.Level, Int)] = [(.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)]
        for (level, priority) in expected { #expect(DaemonLogHandler.syslogPriority(level) == priority) }
    }

    /// Every line of a message is its own journal entry, so each carries the prefix; metadata
    /// follows the text, sorted, so the same event always reads the same.
    @Test func journalLinesArePrefixedPerLineWithSortedMetadata() {
        #expect(DaemonLogHandler.journalLines(level: .error, message: "KVP: pool 7 out of range", metadata: [:])
            == "<3>KVP: pool 7 out of range\n")
        #expect(DaemonLogHandler.journalLines(level: .notice, message: "shutdown request accepted",
                                              metadata: ["reason": "0x80000000", "flags": "0"])
            == "<5>shutdown request accepted (flags=0 reason=0x80000000)\n")
        #expect(DaemonLogHandler.journalLines(level: .warning, message: "two\nlines", metadata: [:]) == "<4>two\n<4>lines\n")
    }

    /// JOURNAL_STREAM names the stream by device:inode; only a descriptor that is that stream matches.
    @Test func journalStreamMatchesOnlyTheNamedStream() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(getpid())").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        #expect(fstat(fd, &st) == 0)
        #expect(JournalStream.matches("\(st.st_dev):\(st.st_ino)", descriptor: fd))
        #expect(!JournalStream.matches("\(st.st_dev):\(st.st_ino &+ 1)", descriptor: fd))
        #expect(!JournalStream.matches(nil, descriptor: fd))
        #expect(!JournalStream.matches("garbage", descriptor: fd))
        #expect(!JournalStream.matches("1:2:3", descriptor: fd))
        #expect(!JournalStream.matches("\(st.st_dev):\(st.st_ino)", descriptor: -1))
    }

    /// The level lives in one shared setting: changing it through any logger changes every logger.
    @Test func levelIsSharedByEveryLogger() {
        let setting = LogLevelSetting(.info)
        var a = DaemonLogHandler(label: "a", level: setting, journal: true)
        let b = DaemonLogHandler(label: "b", level: setting, journal: true)
        a.logLevel = .error
        #expect(b.logLevel == .error)
        setting.value = .debug
        #expect(a.logLevel == .debug)
    }
}
