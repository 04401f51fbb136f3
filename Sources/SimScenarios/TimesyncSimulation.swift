import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import HVProtocol
import HVSystem
import HostSimulator
import ICFramework
import Timesync

/// A deterministic timesync run in simulated time: the host logic sends SYNC then SAMPLEs,
/// each delivered after a heavy-tailed latency, to a `TimesyncService` disciplining a
/// drifting `SimulatedClock`. Used by tests and by the residual benchmark.
///
/// Here and not in HostSimulator because it runs both sides: the host's codecs against the
/// guest's service, which the simulated host itself must never link.
public struct TimesyncSimulation {
    /// SplitMix64: reproducible pseudo-random numbers without Foundation's global state.
    public struct Random {
        public var state: UInt64
        public init(seed: UInt64) { state = seed }
        public mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        public mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
    }

    public var version: ICVersion
    public var driftPPM: Double
    public var initialOffsetNanoseconds: Int64 = -1_500_000_000
    public var sampleInterval: Int64 = 5_000_000_000
    /// Latency floor, ns.
    public var latencyFloor: Int64 = 20_000
    /// Pareto scale (ns) and shape of the latency above the floor; capped at `latencyCap`.
    public var latencyScale: Double = 10_000
    public var latencyShape: Double = 1.5
    public var latencyCap: Int64 = 50_000_000
    public var seed: UInt64 = 7

    public init(version: ICVersion, driftPPM: Double) {
        self.version = version
        self.driftPPM = driftPPM
    }

    /// Runs for `seconds` of simulated time; returns the guest−true clock error (ns) just
    /// before each sample after the first.
    public func run(seconds: Int) throws -> [Int64] {
        let source = ManualTimeSource()
        let clock = SimulatedClock(source: source, initialOffsetNanoseconds: initialOffsetNanoseconds, driftPPM: driftPPM)
        var guest = ICEndpoint(service: TimesyncService(mode: .discipline, clock: clock))
        var host = HostICChannel(kind: .timesync, offer: HostVersionOffer(frameworkVersions: HostVersionOffer.frameworks, serviceVersions: [version]))
        guard case .negotiated(let versions) = host.accept(guest.process(host.negotiateRequest()).reply ?? []) else {
            throw HostChannelError.notReady
        }
        var logic = TimesyncHostLogic(source: source, referenceOffsetTicks: 987_654_321_000)
        let actuator = TimesyncActuator(clock: clock)
        var random = Random(seed: seed)
        var residuals: [Int64] = []
        var elapsed: Int64 = 0
        while elapsed < Int64(seconds) * 1_000_000_000 {
            if logic.sentSync { residuals.append(clock.errorNanoseconds()) }
            let message = logic.nextMessage(version: versions.service)
            let request = try host.request(type: .timesync, body: message.body(version: versions.service))
            let pareto = latencyScale / pow(1 - random.unit(), 1 / latencyShape)
            let latency = latencyFloor + min(Int64(pareto), latencyCap)
            source.advance(byNanoseconds: latency)
            let outcome = guest.process(request)
            if let action = outcome.action { try actuator.apply(action) }
            _ = host.accept(outcome.reply ?? [])
            source.advance(byNanoseconds: sampleInterval - latency)
            elapsed += sampleInterval
        }
        return residuals
    }

    /// The p-th percentile (0...1) of |values|.
    public static func percentile(_ values: [Int64], _ p: Double) -> Int64 {
        let sorted = values.map { abs($0) }.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}
