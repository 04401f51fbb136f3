import HVSystem
import TestSupport
import XCTest
@testable import KVPAgent
import KVPStore
import HVProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Plays the kernel's side of /dev/vmbus/hv_kvp over SOCK_SEQPACKET pairs
/// (one message per read/write, a new pair per open, like the peer harness).
final class KernelDeviceFrontEndTests: XCTestCase {
    final class FakeKernel: @unchecked Sendable {
        var kernelEnds: [Int32] = []
        func open() -> Int32 {
            var sv: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &sv) == 0 else { return -1 }
            kernelEnds.append(sv[0])
            return sv[1]
        }
        func recv(_ fd: Int32) -> [UInt8] {
            var buf = [UInt8](repeating: 0, count: 16384)
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            return n > 0 ? Array(buf[0..<n]) : []
        }
        func send(_ fd: Int32, _ m: [UInt8]) {
            _ = m.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
        /// Accepts the registration on the newest connection; returns its fd.
        func register() -> Int32 {
            let fd = kernelEnds[kernelEnds.count - 1]
            let reg = recv(fd)
            precondition(reg.count == KernelMessage.size && reg[0] == 100)
            precondition(reg[4...].allSatisfy { $0 == 0 }, "registration must be zero-filled")
            var reply = Msg.base(100, 0)
            Msg.put(&reply, 4, Array("3.1".utf8))
            send(fd, reply)
            return fd
        }
    }

    /// What the daemon's event loop does with the front end (`DaemonRunner.startKernelKVP`),
    /// reduced to the one device: start, poll, serve, and after a failure log it, wait out
    /// ``KernelDeviceFrontEnd/reopenDelayMicroseconds`` and reopen. A busy device is waited for;
    /// any other failure ends the loop and is returned. `requests` bounds the loop (nil: until a
    /// failure).
    static func serve(_ fe: KernelDeviceFrontEnd, requests: Int? = nil, log: (String) -> Void = { _ in }) -> SystemCallError? {
        func keepGoing(after error: SystemCallError) -> Bool {
            log("KVP: \(error); reopening in \(fe.reopenDelayMicroseconds / 1000) ms")
            return error.errno == .resourceBusy
        }
        do {
            try fe.start()
        } catch {
            guard keepGoing(after: error) else { return error }
        }
        var served = 0
        while requests.map({ served < $0 }) ?? true {
            if fe.descriptor < 0 {
                usleep(UInt32(fe.reopenDelayMicroseconds))
                do {
                    try fe.reopen()
                } catch {
                    guard keepGoing(after: error) else { return error }
                    continue
                }
            }
            var device = pollfd(fd: fe.descriptor, events: Int16(POLLIN), revents: 0)
            guard retryingOnInterrupt({ poll(&device, 1, -1) }) > 0 else { continue }
            do {
                if try fe.serviceOne() { served += 1 }
            } catch {
                guard keepGoing(after: error) else { return error }
            }
        }
        return nil
    }

    func testRegistersAnswersAndReRegistersAfterShortMessage() throws {
        let dir = TempDir()
        let store = try PoolStore(directory: dir.path, writable: true)
        let engine = KVPEngine(store: store, autoPool: FixedAutoPool())
        let kernel = FakeKernel()
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in },
                                      openDevice: { kernel.open() })
        let done = expectation(description: "daemon loop ended")
        let box = UncheckedBox(fe)
        let thread = Thread {
            _ = Self.serve(box.value, requests: 4)
            done.fulfill()
        }
        // open happens on the daemon thread; wait for it
        thread.start()
        while kernel.kernelEnds.isEmpty { usleep(1000) }
        var k = kernel.register()
        kernel.send(k, Msg.set(0, "HostName", "h1"))
        XCTAssertEqual(Msg.status(kernel.recv(k)), 0)
        kernel.send(k, Msg.enumerate(2, 1))
        let e = kernel.recv(k)
        XCTAssertEqual(Msg.cstr(e, 20, 512), "IntegrationServicesVersion")
        XCTAssertEqual(Msg.cstr(e, 532, 2048), "3.1")
        // A short message: the daemon reopens and registers again.
        kernel.send(k, [UInt8](repeating: 1, count: 100))
        while kernel.kernelEnds.count < 2 { usleep(1000) }
        k = kernel.register()
        kernel.send(k, Msg.get(0, "HostName"))
        let g = kernel.recv(k)
        XCTAssertEqual(Msg.status(g), 0)
        XCTAssertEqual(Msg.cstr(g, 528, 2048), "h1")
        kernel.send(k, Msg.set(7, "Pool7", "p"))
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.invalidArgument.rawValue)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(fe.registrations, 2)
        for fd in kernel.kernelEnds { close(fd) }
    }
}

extension KernelDeviceFrontEndTests {
    /// A device that keeps failing (read returns EOF right after each
    /// registration) is reopened with a growing pause, not in a busy loop;
    /// an open error other than EBUSY ends the loop.  The pause is the
    /// front end's back-off, which the loop waits out.
    func testBacksOffWhenTheDeviceKeepsFailing() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        let lock = NSLock()
        var opens = 0
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in }, openDevice: {
            lock.lock(); defer { lock.unlock() }
            opens += 1
            if opens > 4 { errno = ENOENT; return -1 }
            return kernel.open()
        })
        let box = UncheckedBox(fe)
        let done = expectation(description: "loop ended")
        final class Thrown: @unchecked Sendable { var error: SystemCallError? }
        let thrown = Thrown()
        let t0 = Date()
        Thread {
            thrown.error = Self.serve(box.value)
            done.fulfill()
        }.start()
        var closed = 0
        while closed < 4 {
            lock.lock(); let n = kernel.kernelEnds.count; lock.unlock()
            if n > closed {
                let fd = kernel.kernelEnds[closed]
                XCTAssertEqual(kernel.recv(fd).count, KernelMessage.size)  // registration
                close(fd)  // the daemon's next read sees EOF
                closed += 1
            } else {
                usleep(1000)
            }
        }
        wait(for: [done], timeout: 10)
        let elapsed = Date().timeIntervalSince(t0)
        XCTAssertEqual(opens, 5)
        XCTAssertNotNil(thrown.error)
        XCTAssertEqual(thrown.error?.errno, .noSuchFileOrDirectory)
        // reopen #2 immediate, then 0.1 s, 0.2 s, 0.4 s pauses
        XCTAssertGreaterThan(elapsed, 0.65)
    }
}

extension KernelDeviceFrontEndTests {
    /// Another program holding the device (EBUSY) is waited for (B14): each
    /// busy open is a failure that grows the back-off, and registration
    /// follows as soon as a later reopen succeeds.
    func testWaitsForABusyDevice() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        let lock = NSLock()
        var attempts = 0
        var lines: [String] = []
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { l in lock.lock(); lines.append(l); lock.unlock() },
                                      openDevice: {
            lock.lock(); defer { lock.unlock() }
            attempts += 1
            if attempts <= 2 { errno = EBUSY; return -1 }
            return kernel.open()
        })
        let box = UncheckedBox(fe)
        let done = expectation(description: "served")
        var delays: [UInt64] = []
        let record = UncheckedBox { (line: String) in
            // On the loop's thread, right after each failure.
            delays.append(fe.reopenDelayMicroseconds)
            lock.lock(); lines.append(line); lock.unlock()
        }
        Thread {
            _ = Self.serve(box.value, requests: 1, log: record.value)
            done.fulfill()
        }.start()
        while true {
            lock.lock(); let n = kernel.kernelEnds.count; lock.unlock()
            if n > 0 { break }
            usleep(1000)
        }
        let k = kernel.register()
        kernel.send(k, Msg.enumerate(0, 0))
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.noMoreItems.rawValue)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(attempts, 3)
        XCTAssertEqual(delays, [0, 100_000], "each busy open grows the back-off")
        XCTAssertEqual(fe.reopenDelayMicroseconds, 0, "a whole message ends the back-off")
        lock.lock(); defer { lock.unlock() }
        XCTAssertEqual(lines.filter { $0.contains("busy") }.count, 2)
        close(k)
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

extension KernelDeviceFrontEndTests {
    /// The front end never sleeps: a device that keeps failing is left closed with a growing
    /// reopen delay for the caller's timer, a busy device is reported instead of waited for, and
    /// `reopen()` registers again.
    func testNonBlockingFrontEndLeavesTheBackOffToTheCaller() throws {
        let dir = TempDir()
        let engine = KVPEngine(store: try PoolStore(directory: dir.path, writable: true))
        let kernel = FakeKernel()
        var busy = false
        let fe = KernelDeviceFrontEnd(engine: engine, devicePath: "fake", log: { _ in }, openDevice: {
            if busy { errno = EBUSY; return -1 }
            return kernel.open()
        })
        try fe.start()
        var delays: [UInt64] = []
        let t0 = Date()
        for round in 0..<5 {
            if fe.descriptor < 0 { try fe.reopen() }
            let k = kernel.kernelEnds[kernel.kernelEnds.count - 1]
            XCTAssertEqual(kernel.recv(k).count, KernelMessage.size)  // registration, never answered
            close(k)  // the next read sees EOF
            _ = try fe.serviceOne()
            delays.append(fe.reopenDelayMicroseconds)
            XCTAssertEqual(fe.descriptor < 0, round > 0, "round \(round): reopened at once only after the first failure")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 0.3, "no sleeping in the front end")
        XCTAssertEqual(delays, [0, 100_000, 200_000, 400_000, 800_000])
        busy = true
        XCTAssertThrowsError(try fe.reopen()) { XCTAssertEqual(($0 as? SystemCallError)?.errno, .resourceBusy) }
        XCTAssertEqual(fe.reopenDelayMicroseconds, 1_600_000)
        busy = false
        try fe.reopen()
        let k = kernel.register()
        _ = try fe.serviceOne()
        kernel.send(k, Msg.enumerate(0, 0))
        XCTAssertTrue(try fe.serviceOne())
        XCTAssertEqual(Msg.status(kernel.recv(k)), HResult.noMoreItems.rawValue)
        XCTAssertEqual(fe.registrations, 1)
        XCTAssertEqual(fe.reopenDelayMicroseconds, 0, "a whole message ends the back-off")
        for fd in kernel.kernelEnds { close(fd) }
    }
}
