import Heartbeat
import ICFramework
import ShutdownSvc
import Timesync
import HVSystem

/// Fuzz targets for the integration services: a whole endpoint (IC header parse, negotiation,
/// the service's decoder and reply) fed a sequence of packets from one input, so negotiation state
/// and service messages are exercised together, as a hostile host would send them.
enum ICFuzzTargets {
    /// Splits an input into packets: each a 2-byte little-endian length, then that many bytes.
    static func packets(_ input: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 0
        while i + 2 <= input.count && out.count < 64 {
            let n = Int(input[i]) | Int(input[i + 1]) << 8
            i += 2
            let end = min(input.count, i + n)
            out.append(Array(input[i..<end]))
            i = end
        }
        return out
    }

    static func run<S: ICService>(_ service: S, _ input: UnsafeRawBufferPointer) {
        var endpoint = ICEndpoint(service: service)
        for packet in packets(input) {
            let outcome = endpoint.process(packet)
            if let reply = outcome.reply {
                // A reply is always a whole IC message: pipe header + IC header at least.
                precondition(reply.count >= 28, "short reply")
            }
        }
    }

    struct NoHibernation: HibernationSupport {
        var systemCanHibernate: Bool { true }
        var deviceBoundToUIO: Bool { false }
    }

    static let heartbeat = FuzzTarget(name: "ic-heartbeat") { run(HeartbeatService(), $0) }
    static let shutdown = FuzzTarget(name: "ic-shutdown") { run(ShutdownService(hibernation: NoHibernation()), $0) }
    static let timesync = FuzzTarget(name: "ic-timesync") { input in
        let clock = SimulatedClock(source: ManualTimeSource(), initialOffsetNanoseconds: 1_000_000, driftPPM: 10)
        run(TimesyncService(mode: .discipline, clock: clock), input)
    }
}
