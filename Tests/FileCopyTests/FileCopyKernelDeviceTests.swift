import FileCopy
import Foundation
import HVProtocol
import Testing

/// `/dev/vmbus/hv_fcopy` (kernels before 6.10) played by one end of a SOCK_SEQPACKET pair: each
/// read is one message and each write one status, as through hv_utils_transport.
@Suite struct FileCopyKernelDeviceTests {
    final class Kernel {
        var fds: [Int32] = [-1, -1]
        init() { _ = socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds) }
        deinit { fds.forEach { if $0 >= 0 { close($0) } } }
        var kernelEnd: Int32 { fds[0] }
        func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(kernelEnd, $0.baseAddress, $0.count) } }
        func receive() -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = buffer.withUnsafeMutableBytes { read(kernelEnd, $0.baseAddress, $0.count) }
            return n > 0 ? Array(buffer[0..<n]) : []
        }
    }

    @Test func registersThenServesUTF8Messages() throws {
        let scratch = Scratch()
        let kernel = Kernel()
        let agentEnd = kernel.fds[1]
        kernel.fds[1] = -1
        let device = FileCopyKernelDevice(path: "/dev/vmbus/hv_fcopy", engine: FileCopyEngine(), openDevice: { _ in agentEnd })
        try device.open()
        #expect(kernel.receive() == [1, 0, 0, 0])  // FCOPY_CURRENT_VERSION
        kernel.send([1, 0, 0, 0])  // the kernel's version
        #expect(try device.serviceOne() == nil)

        // The kernel converted the names to UTF-8 inside the u16 arrays.
        kernel.send(HandLaid.start(file: HandLaid.utf8Field("é.txt"), path: HandLaid.utf8Field(scratch.path), flags: 0, size: 3))
        #expect(try device.serviceOne() == .ok)
        #expect(kernel.receive() == [0, 0, 0, 0])
        kernel.send(HandLaid.write(offset: 0, data: [7, 8, 9]))
        #expect(try device.serviceOne() == .ok)
        #expect(kernel.receive() == [0, 0, 0, 0])
        kernel.send(HandLaid.complete)
        #expect(try device.serviceOne() == .ok)
        #expect(kernel.receive() == [0, 0, 0, 0])
        #expect(scratch.contents("é.txt") == [7, 8, 9])

        // Existing target: ERROR_ALREADY_EXISTS as a 4-byte little-endian HRESULT.
        kernel.send(HandLaid.start(file: HandLaid.utf8Field("é.txt"), path: HandLaid.utf8Field(scratch.path), flags: 0, size: 3))
        #expect(try device.serviceOne() == .alreadyExists)
        #expect(kernel.receive() == [0x50, 0x00, 0x07, 0x80])
        // A short message is answered, not fatal.
        kernel.send([0, 0])
        #expect(try device.serviceOne() == .fail)
        #expect(kernel.receive() == [0x05, 0x40, 0x00, 0x80])

        // A copy in progress when the device fails (the kernel's reset at hibernation) is discarded.
        kernel.send(HandLaid.start(file: HandLaid.utf8Field("partial"), path: HandLaid.utf8Field(scratch.path), flags: 0, size: 0))
        #expect(try device.serviceOne() == .ok)
        _ = kernel.receive()
        close(kernel.kernelEnd)
        kernel.fds[0] = -1
        #expect(throws: FileCopyDeviceError.self) { try device.serviceOne() }
        device.close()
        #expect(scratch.tree() == ["é.txt"])
    }

    @Test func aBadHandshakeFails() throws {
        let kernel = Kernel()
        let agentEnd = kernel.fds[1]
        kernel.fds[1] = -1
        let device = FileCopyKernelDevice(engine: FileCopyEngine(), openDevice: { _ in agentEnd })
        try device.open()
        kernel.send([1, 0])
        #expect(throws: FileCopyDeviceError.badHandshake(length: 2)) { try device.serviceOne() }
    }
}
