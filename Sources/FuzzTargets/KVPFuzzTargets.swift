import ICFramework
import KVPAgent
import KVPStore

#if canImport(Glibc)
import Glibc
#endif

/// Fuzz targets for KVP: the 7432-byte kernel-device message, the host's wire body (ring mode), and
/// the pool-file parser, each through the real engine and a real pool directory.
enum KVPFuzzTargets {
    /// One private pool directory for the whole fuzzing process, in memory (`/dev/shm`) when the
    /// machine has it: the targets exercise the parsers and the engine, not the disk, and every input
    /// rewrites a pool file, so a disk-backed `/tmp` would bound the campaign by the file system.
    static let directory: String = {
        let parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array((parent + "/hvagent-fuzz-kvp.XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress, mkdtemp(base) != nil else { return "/tmp" }
            return String(cString: base)
        }
    }()

    // The fuzzer and the replay test drive targets from one thread at a time.
    static let engine: KVPEngine? = {
        guard let store = try? PoolStore(directory: directory, writable: true, lockTimeout: 1) else { return nil }
        _ = try? store.openAll()
        return KVPEngine(store: store, log: { _ in })
    }()

    nonisolated(unsafe) static let frontEnd: KernelDeviceFrontEnd? = engine.map { KernelDeviceFrontEnd(engine: $0, log: { _ in }, openDevice: { -1 }) }

    /// A kernel-device message (padded or cut to 7432 bytes) decoded, run and encoded.
    static let kernelMessage = FuzzTarget(name: "kvp-kernel-message") { input in
        var bytes = Array(input.prefix(KernelMessage.size))
        bytes += [UInt8](repeating: 0, count: KernelMessage.size - bytes.count)
        guard let message = KernelMessage(bytes: bytes), let frontEnd else { return }
        let reply = frontEnd.answer(message)
        precondition(reply.bytes.count == KernelMessage.size)
    }

    /// A host KVP body as it arrives over the ring (UTF-16 strings, sizes, pool, index).
    static let hostMessage = FuzzTarget(name: "kvp-host-message") { input in
        guard var message = HostMessage(bytes: Array(input)), let engine else { return }
        let request = message.request()
        _ = message.encodeReply(engine.handle(request), for: request)
    }

    /// A sequence of IC packets to the KVP integration component (ring mode): negotiation, then
    /// KVPEXCHANGE bodies of any size, through the real engine.
    static let icKVP = FuzzTarget(name: "ic-kvp") { input in
        guard let engine else { return }
        ICFuzzTargets.run(KVPICService(engine: engine), input)
    }

    /// Arbitrary bytes as a pool file another program left: read, modify, append, delete.
    static let poolFile = FuzzTarget(name: "kvp-pool-file") { input in
        let path = directory + "/.kvp_pool_fuzz"
        unlink(path)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        _ = write(fd, input.baseAddress, input.count)
        close(fd)
        guard let file = try? PoolFile(path: path, writable: true, lockTimeout: 1) else { return }
        let records = (try? file.allRecords()) ?? []
        if let first = records.first { _ = try? file.set(first) }
        if let record = PoolRecord(key: "fuzz", value: "value") { _ = try? file.set(record) }
        _ = try? file.delete(key: Array("fuzz".utf8))
        _ = try? file.discardPartialTail()
        precondition(((try? file.count()) ?? 0) <= records.count + 1)
    }
}
