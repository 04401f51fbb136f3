import RingTransport
import HVProtocol

/// A host end of one IC channel taken out of the simulated host's loop, so a test can play a
/// malicious host on it: scribble over ring indices, forge descriptors, send IC messages whose
/// headers lie, signal without data, or write data without signalling. The other channels keep
/// their ordinary host logic, which is how the malicious-host suite checks they keep serving.
///
/// Everything here writes only to the host->guest ring and the doorbell: exactly what a real
/// hostile hypervisor controls (plus the guest->host ring's `read_index`, also host-owned).
public final class HostileChannel {
    public let kind: ICServiceID
    /// The raw host end. Packets sent through it are well formed at the ring level.
    public let channel: VMBusChannel

    init(kind: ICServiceID, channel: VMBusChannel) {
        self.kind = kind
        self.channel = channel
    }

    /// The ring the host writes and the guest reads.
    public var guestInbound: RingBuffer { channel.outbound.ring }
    /// The ring the guest writes and the host reads (its `read_index` is the host's to publish).
    public var guestOutbound: RingBuffer { channel.inbound.ring }

    // MARK: Ring-level corruption

    /// Stores `value` as the guest-inbound `write_index` and signals.
    public func setWriteIndex(_ value: UInt32) throws(ChannelError) {
        guestInbound.header.writeIndex.store(value, ordering: .releasing)
        try channel.doorbell.signalPeer()
    }

    /// Stores `value` as the guest-outbound `read_index` (the index the guest's writer trusts for
    /// free space) without signalling.
    public func setGuestOutboundReadIndex(_ value: UInt32) {
        guestOutbound.header.readIndex.store(value, ordering: .releasing)
    }

    /// Writes a raw descriptor (type 6) at the next packet position, followed by `payload`
    /// (zero-padded), publishes `published` bytes from that position, and signals. The host's own
    /// writer is not advanced: use this as the last action on a channel.
    public func forgeDescriptor(offset8: UInt16, length8: UInt16, flags: UInt16 = 0, payload: [UInt8] = [],
                                published: UInt32) throws(ChannelError) {
        let start = channel.outbound.nextPacketOffset
        let descriptor = PacketDescriptor(type: PacketType.dataInBand, dataOffset8: offset8, length8: length8,
                                          flags: flags, transactionID: 0)
        let bytes = descriptor.bytes + payload
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            guestInbound.copyIn(at: start, from: base, count: min(raw.count, Int(guestInbound.dataSize) - 8))
        }
        try setWriteIndex(guestInbound.advance(start, by: published % guestInbound.dataSize))
    }

    /// Overwrites `bytes` at `offset` bytes into the payload of the packet that starts at ring
    /// offset `packetStart` (the descriptor is left alone).
    public func overwritePayload(ofPacketAt packetStart: UInt32, offset: Int, with bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let at = guestInbound.advance(packetStart, by: UInt32(RingLayout.descriptorSize + offset) % guestInbound.dataSize)
            guestInbound.copyIn(at: at, from: base, count: raw.count)
        }
    }

    /// The guest-inbound `read_index` as the guest last published it.
    public var guestReadIndex: UInt32 { guestInbound.header.readIndex.load(ordering: .acquiring) }

    // MARK: Packets and signals

    /// Sends `payload` as one in-band packet; signals unless `signal` is false.
    /// - Returns: the ring offset where the packet starts.
    @discardableResult
    public func send(_ payload: [UInt8], signal: Bool = true) throws(ChannelError) -> UInt32 {
        let start = channel.outbound.nextPacketOffset
        try channel.send(payload)
        if signal { try channel.flush() }
        return start
    }

    /// Like ``send(_:signal:)`` but returns `false` instead of throwing when the ring is full.
    public func sendIfRoom(_ payload: [UInt8], signal: Bool = true) throws(ChannelError) -> Bool {
        do {
            try send(payload, signal: signal)
            return true
        } catch {
            if error == .ring(.ringFull) { return false }
            throw error
        }
    }

    /// Rings the guest's doorbell `count` times without writing anything.
    public func signal(times count: Int) throws(ChannelError) {
        for _ in 0..<count { try channel.doorbell.signalPeer() }
    }

    /// Reads every reply the guest has written so far (publishing the read index).
    public func receiveReplies() throws -> [[UInt8]] {
        var replies: [[UInt8]] = []
        _ = try channel.waitForSignal(timeoutMilliseconds: 0)
        repeat {
            try channel.receiveBatch { _, payload in replies.append(Array(payload)) }
        } while try channel.finishBatch()
        return replies
    }

    // MARK: IC messages that lie

    /// An IC message with every header field under the caller's control. `pipeSize` defaults to
    /// the true size; `body` is what follows the IC header.
    public static func message(type: ICMessageType, flags: ICFlags = .hostRequest, framework: ICVersion = ICVersion(3, 0),
                               version: ICVersion = ICVersion(3, 0), icMessageSize: UInt16? = nil, pipeType: UInt32 = PipeHeader.dataType,
                               pipeSize: UInt32? = nil, body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        PipeHeader(packetType: pipeType, messageSize: pipeSize ?? UInt32(ICMessageHeader.size + body.count)).encode(into: &bytes)
        ICMessageHeader(frameworkVersion: framework, messageType: type, messageVersion: version,
                        messageSize: icMessageSize ?? UInt16(truncatingIfNeeded: body.count), flags: flags).encode(into: &bytes)
        return bytes + body
    }

    /// A NEGOTIATE whose counts say `frameworkCount` + `serviceCount` versions but which carries
    /// only `presentVersions` of them (each 3.0).
    public static func negotiate(frameworkCount: UInt16, serviceCount: UInt16, presentVersions: Int) -> [UInt8] {
        var body: [UInt8] = []
        LittleEndian.append(frameworkCount, to: &body)
        LittleEndian.append(serviceCount, to: &body)
        LittleEndian.append(UInt32(0), to: &body)
        for _ in 0..<presentVersions { ICVersion(3, 0).encode(into: &body) }
        return message(type: .negotiate, framework: ICVersion(0, 0), version: ICVersion(0, 0), body: body)
    }
}

extension SimulatedHyperVHost {
    /// Takes `kind`'s channel out of the host's loop (the host no longer reads, sends or logs on
    /// it) and hands its raw host end to the caller.
    public func takeOver(_ kind: ICServiceID) -> HostileChannel? {
        guard let channel = channels[kind]?.channel else { return nil }
        channels[kind]?.channel = nil
        channels[kind]?.live = false
        channels[kind]?.nextDue = nil
        log.record(channel: kind.rawValue, event: "hostile", detail: "channel taken over by a malicious host")
        return HostileChannel(kind: kind, channel: channel)
    }

    /// Hands a taken-over channel back to the honest host logic: it stays silent until the agent
    /// opens the channel again (after closing it for the corruption), then takes a fresh end and
    /// negotiates as after any open.
    public func giveBack(_ hostile: HostileChannel) {
        guard channels[hostile.kind] != nil else { return }
        channels[hostile.kind]?.channel = hostile.channel
        channels[hostile.kind]?.live = false
        log.record(channel: hostile.kind.rawValue, event: "hostile", detail: "channel given back to the honest host")
    }
}
