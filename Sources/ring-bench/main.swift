// ring-bench: the Swift ring under the C reference's two-thread harness.
//
// Same flags and the same CSV line as shared/perf/ring-ref/bench_ref (bench_core.h), so
// shared/perf/ring-ref/runbench.py drives both side by side:
//   ring-bench [-r RING_BYTES] [-l PAYLOAD] [-t SECONDS] [-w WARMUP] [-m 0|1] [-p CPU] [-c CPU] [-H]
//   ring-bench -s ROUNDS [-r RING_BYTES] [-l PAYLOAD]
// A producer thread pinned to one CPU sends fixed-size in-band packets; a consumer pinned to another
// receives and checks a sequence number in each. Mode 0 (protocol): the consumer masks while it
// drains and runs the end-of-batch protocol (re-arm, pending_send_sz), spinning where a real reader
// would sleep. Mode 1 (poll): the consumer stays masked. The reader uses the channel's masked-poll
// signal policy (RingReader.idleSpin = VMBusChannel.defaultIdleSpin); VMB_IDLE_SPIN=N overrides it,
// as it does for bench_ref.
//
// -s ROUNDS: one thread fills the ring until it is full, then drains it, ROUNDS times, through
// the same out-of-line sendOne/receiveOne: the work per packet without the second CPU, counted
// under callgrind by scripts/ring-cost.sh next to the C reference's (scripts/ring-cost/ring_cost.c).
import CHVSupport
import RingTransport

#if canImport(Glibc)
import Glibc
#endif

let typeData: UInt16 = 0x6
let typeStop: UInt16 = 0x7

struct Config {
    var ringBytes = 2 << 20
    var payload = 64
    var seconds = 1.5
    var warmup = 0.3
    var mode = 0
    var producerCPU: Int32 = 0
    var consumerCPU: Int32 = 1
    var singleRounds = 0
}

struct Result {
    var msgs: UInt64 = 0, wsig: UInt64 = 0, full: UInt64 = 0, rsig: UInt64 = 0, idle: UInt64 = 0
    var batches: UInt64 = 0, errors: UInt64 = 0
    var tStart = 0.0, tEnd = 0.0
}

/// Writes a message to standard error (fd 2).
func warn(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func usage() -> Never {
    warn("usage: ring-bench [-r ring_bytes(incl 4096 header)] [-l payload] [-t seconds] [-w warmup]\n"
        + "          [-m 0=protocol|1=poll] [-p producer_cpu] [-c consumer_cpu] [-H]\n"
        + "       ring-bench -s rounds [-r ring_bytes] [-l payload]\n")
    exit(1)
}

func parse() -> Config {
    var c = Config()
    var args = CommandLine.arguments.dropFirst()
    while let flag = args.popFirst() {
        if flag == "-H" {
            print("impl,ring_bytes,payload,mode,msgs,secs,mmsgs_per_s,payload_gbps,"
                + "wsig_per_msg,rsig_per_msg,full_per_msg,idle_per_msg,batches_per_msg,errors")
            exit(0)
        }
        guard let value = args.popFirst() else { usage() }
        switch flag {
        case "-r": c.ringBytes = Int(strtoull(value, nil, 0))
        case "-l": c.payload = Int(strtoul(value, nil, 0))
        case "-t": c.seconds = atof(value)
        case "-w": c.warmup = atof(value)
        case "-m": c.mode = Int(atoi(value))
        case "-p": c.producerCPU = atoi(value)
        case "-c": c.consumerCPU = atoi(value)
        case "-s": c.singleRounds = Int(atoi(value))
        default: usage()
        }
    }
    if c.payload < 8 || c.payload > 60000 { usage() }
    return c
}

/// The adapter calls, like bench_ref.c's impl_send / impl_recv: 1 = sent and the reader must be
/// signalled, 0 = sent, -EAGAIN = full (send) or empty (receive), other negative = error. Kept out
/// of line on purpose: with the ring inlined into the loops the build measured slower, and this is
/// the shape the C harness drives every implementation through.
@inline(never)
func sendOne(_ writer: inout RingWriter, _ payload: UnsafeRawBufferPointer, _ type: UInt16) -> Int32 {
    do {
        return try writer.write(payload, type: type, transactionID: ~0) ? 1 : 0
    } catch .ringFull {
        return -EAGAIN
    } catch {
        return -EIO
    }
}

@inline(never)
func receiveOne(_ reader: inout RingReader, _ buffer: UnsafeMutableRawBufferPointer, _ type: inout UInt16) -> Int32 {
    do {
        guard let descriptor = try reader.read(into: buffer) else { return -EAGAIN }
        type = descriptor.type
        return Int32(descriptor.paddedPayloadLength)
    } catch {
        return -EIO
    }
}

/// State shared by the two threads; each touches only its own fields except through the barrier.
final class Bench: @unchecked Sendable {
    let config: Config
    let memory: UnsafeMutableRawPointer
    let ring: RingBuffer
    var barrier = pthread_barrier_t()
    var result = Result()
    var sent: UInt64 = 0
    let idleSpin: Int

    init(config: Config) throws {
        self.config = config
        guard let m = mmap(nil, config.ringBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), m != MAP_FAILED else {
            perror("mmap")
            exit(1)
        }
        memset(m, 0, config.ringBytes) // fault every page in
        memory = m
        RingHeader.format(m, headerSize: 4096)
        ring = try RingBuffer(base: m, ringSize: config.ringBytes, headerSize: 4096)
        if let e = getenv("VMB_IDLE_SPIN") {
            idleSpin = Int(strtoul(e, nil, 0))
        } else {
            idleSpin = VMBusChannel.defaultIdleSpin
        }
        pthread_barrier_init(&barrier, nil, 2)
    }

    /// One phase: send until the deadline, then a STOP packet (bench_core.h's bench_produce).
    func produce(_ writer: inout RingWriter, _ source: UnsafeMutableRawBufferPointer, seconds: Double) -> Result {
        var r = Result()
        var seq: UInt64 = 0
        let t0 = now()
        let deadline = t0 + seconds
        let payload = UnsafeRawBufferPointer(source)
        while true {
            if seq & 127 == 0 && now() >= deadline { break }
            source.storeBytes(of: seq, as: UInt64.self)
            var rc = sendOne(&writer, payload, typeData)
            if _slowPath(rc < 0) {
                guard rc == -EAGAIN else { fatalError("send error \(rc)") }
                r.full &+= 1
                // A real writer would announce pending_send_sz and sleep here.
                _ = try? writer.announcePendingSend(payloadLength: payload.count)
                repeat { rc = sendOne(&writer, payload, typeData) } while rc == -EAGAIN
                writer.clearPendingSend()
                guard rc >= 0 else { fatalError("send error \(rc)") }
            }
            r.wsig &+= UInt64(rc)
            seq &+= 1
        }
        while sendOne(&writer, payload, typeStop) == -EAGAIN {}
        r.msgs = seq
        r.tStart = t0
        return r
    }

    /// bench_core.h's bench_consume.
    func consume(_ reader: inout RingReader, _ buffer: UnsafeMutableRawBufferPointer) -> Result {
        var r = Result()
        let poll = config.mode == 1
        let length = config.payload
        var expect: UInt64 = 0
        if poll { reader.beginRead() }
        outer: while true {
            if !poll { reader.beginRead() }
            r.batches &+= 1
            while true {
                var type: UInt16 = 0
                let n = receiveOne(&reader, buffer, &type)
                if n == -EAGAIN { break }
                guard n >= 0 else { fatalError("recv error \(n)") }
                if _slowPath(type == typeStop) { break outer }
                let seq = buffer.load(as: UInt64.self)
                if seq != expect || Int(n) != length { r.errors &+= 1 }
                expect &+= 1
            }
            if !poll {
                do {
                    let end = try reader.endRead()
                    if end.signalWriter { r.rsig &+= 1 }
                    if end.moreData { continue }
                } catch {
                    fatalError("end of batch error \(error)")
                }
            }
            r.idle &+= 1
            // A real reader would sleep until signalled here.
            while reader.isEmpty {}
        }
        _ = try? reader.endRead()
        r.tEnd = now()
        r.msgs = expect
        return r
    }

    func producerMain() {
        if chv_pin_current_thread(config.producerCPU) != 0 { warn("warning: could not pin to cpu \(config.producerCPU)\n") }
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: config.payload + 64, alignment: 64)
        source.initializeMemory(as: UInt8.self, repeating: 0xA5)
        defer { source.deallocate() }
        let payload = UnsafeMutableRawBufferPointer(rebasing: source[..<config.payload])
        for phase in 0..<2 {
            guard var writer = try? RingWriter(ring: ring) else { warn("tx attach failed\n"); exit(2) }
            pthread_barrier_wait(&barrier)
            let r = produce(&writer, payload, seconds: phase == 0 ? config.warmup : config.seconds)
            if phase == 1 {
                result.wsig = r.wsig
                result.full = r.full
                result.tStart = r.tStart
                sent = r.msgs
            }
            pthread_barrier_wait(&barrier)
        }
    }

    func consumerMain() {
        if chv_pin_current_thread(config.consumerCPU) != 0 { warn("warning: could not pin to cpu \(config.consumerCPU)\n") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        defer { buffer.deallocate() }
        for phase in 0..<2 {
            guard var reader = try? RingReader(ring: ring) else { warn("rx attach failed\n"); exit(3) }
            reader.idleSpin = idleSpin
            pthread_barrier_wait(&barrier)
            let r = consume(&reader, buffer)
            if phase == 1 {
                result.msgs = r.msgs
                result.rsig = r.rsig
                result.idle = r.idle
                result.batches = r.batches
                result.errors = r.errors
                result.tEnd = r.tEnd
            }
            pthread_barrier_wait(&barrier)
        }
    }
}

func startThread(_ bench: Bench, _ body: @escaping (Bench) -> Void) -> pthread_t {
    final class Context {
        let bench: Bench
        let body: (Bench) -> Void
        init(_ bench: Bench, _ body: @escaping (Bench) -> Void) { self.bench = bench; self.body = body }
    }
    let context = Unmanaged.passRetained(Context(bench, body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        guard let raw else { return nil }
        let context = Unmanaged<AnyObject>.fromOpaque(raw).takeRetainedValue()
        if let context = context as? Context { context.body(context.bench) }
        return nil
    }, context)
    if rc != 0 { warn("pthread_create failed\n"); exit(1) }
    return thread
}

let config = parse()
let bench: Bench
do {
    bench = try Bench(config: config)
} catch {
    warn("ring init failed: \(error)\n")
    exit(1)
}
if config.singleRounds > 0 {
    guard var writer = try? RingWriter(ring: bench.ring), var reader = try? RingReader(ring: bench.ring) else { exit(2) }
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: config.payload + 64, alignment: 64)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 64)
    source.initializeMemory(as: UInt8.self, repeating: 0)
    let payload = UnsafeRawBufferPointer(rebasing: source[..<config.payload])
    var sent: UInt64 = 0
    var received: UInt64 = 0
    for _ in 0..<config.singleRounds {
        while true {
            source.storeBytes(of: sent, as: UInt64.self)
            if sendOne(&writer, payload, typeData) < 0 { break }
            sent &+= 1
        }
        reader.beginRead()
        var type: UInt16 = 0
        while receiveOne(&reader, buffer, &type) >= 0 { received &+= 1 }
        _ = try? reader.endRead()
    }
    print("packets \(sent) \(received)")
    exit(sent == received ? 0 : 4)
}
let consumer = startThread(bench) { $0.consumerMain() }
let producer = startThread(bench) { $0.producerMain() }
pthread_join(producer, nil)
pthread_join(consumer, nil)
var result = bench.result
if bench.sent != result.msgs {
    warn("count mismatch: sent \(bench.sent) received \(result.msgs)\n")
    result.errors += 1
}
let secs = result.tEnd - result.tStart
let m = Double(result.msgs)
func f(_ v: Double, _ d: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([v]) { vsnprintf(&buf, 64, "%.\(d)f", $0) }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
print("swift,\(config.ringBytes),\(config.payload),\(config.mode == 1 ? "poll" : "proto"),\(result.msgs),\(f(secs, 4)),"
    + "\(f(m / secs / 1e6, 3)),\(f(m * Double(config.payload) / secs / 1e9, 3)),\(f(Double(result.wsig) / m, 4)),"
    + "\(f(Double(result.rsig) / m, 5)),\(f(Double(result.full) / m, 5)),\(f(Double(result.idle) / m, 4)),"
    + "\(f(Double(result.batches) / m, 4)),\(result.errors)")
exit(result.errors != 0 ? 4 : 0)
