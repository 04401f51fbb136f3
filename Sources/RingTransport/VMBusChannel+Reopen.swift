extension VMBusChannel {
    /// A fresh end of this channel over the same rings and doorbell, for a channel opened again
    /// (the simulated host after the agent's re-open). This end must not be used any more.
    ///
    /// Nothing is formatted here: each index has one writer, so the new end continues from the
    /// headers. What this end has not read yet belongs to the previous open and is dropped by
    /// moving its own `read_index` up to the peer's `write_index`; an announced `pending_send_sz`
    /// is withdrawn. A reply that crosses the re-open still arrives afterwards; the IC layer skips
    /// it (a reply of the wrong type while negotiating, or a request before NEGOTIATE).
    ///
    /// - Throws: ``ChannelError/ring(_:)`` when the headers hold indices no end can use.
    public func reopened() throws(ChannelError) -> VMBusChannel {
        let ring = inbound.ring
        let write = ring.header.writeIndex.load(ordering: .acquiring)
        if ring.isValidIndex(write) {
            ring.header.readIndex.store(write, ordering: .releasing)
        }
        outbound.ring.header.pendingSendSize.store(0, ordering: .releasing)
        return try VMBusChannel(memory: memory, ringSize: ringSize, headerSize: headerSize, doorbell: doorbell, role: role,
                                idleSpin: inbound.idleSpin)
    }

    /// A fresh guest end with both rings formatted as a channel open formats them
    /// (`hv_ringbuffer_init()`: indices 0, no pending size, the pending-send feature bit;
    /// docs/PROTOCOL.md §1).
    ///
    /// Why: a corrupt ring fails its channel end for good, and corrupt indices would fail any end
    /// continuing from them. Under uio_hv_generic the agent recovers by closing and reopening
    /// `/dev/uioN`, and the kernel formats the rings on that open; the simulated VMBus has no
    /// kernel in between, so its guest end formats them here, after it reported the close and
    /// before it reports the open again (the host has stopped using its end by then).
    public func reopenedAsGuest() throws(ChannelError) -> VMBusChannel {
        RingHeader.format(memory.baseAddress, headerSize: headerSize)
        RingHeader.format(memory.baseAddress + ringSize, headerSize: headerSize)
        return try reopened()
    }

    /// The header page size of each ring.
    var headerSize: Int { ringSize - Int(inbound.ring.dataSize) }
}
