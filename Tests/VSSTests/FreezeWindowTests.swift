import DaemonSupport
import Testing

/// The in-memory log window (COMPATIBILITY.md V2): nothing is written while open, everything
/// (or a count of what did not fit) comes out at close, in order.
@Suite struct FreezeWindowTests {
    @Test func holdsOnlyWhileOpenAndFlushesInOrder() {
        let window = FreezeWindow(capacity: 64)
        #expect(!window.hold("before\n"))
        window.open()
        #expect(window.hold("one\n"))
        #expect(window.hold("two\n"))
        #expect(window.isOpen)
        #expect(String(decoding: window.close(), as: UTF8.self) == "one\ntwo\n")
        #expect(!window.isOpen)
        #expect(window.close().isEmpty)
    }

    @Test func overflowIsCountedNotLostSilently() {
        let window = FreezeWindow(capacity: 8)
        window.open()
        #expect(window.hold("1234567\n"))
        #expect(window.hold("overflow\n"))
        #expect(String(decoding: window.close(), as: UTF8.self)
            == "1234567\nhvagent: 1 log record(s) dropped while filesystems were frozen\n")
    }
}
