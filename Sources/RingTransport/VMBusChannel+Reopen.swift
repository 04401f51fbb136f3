extension VMBusChannel {
    /// A fresh guest end over the same memory and doorbell, with both rings formatted as a channel
    /// open formats them (`hv_ringbuffer_init`: indices 0, no pending size; docs/PROTOCOL.md §1).
    ///
    /// Why: a corrupt ring fails its channel end for good. Under uio_hv_generic the agent recovers
    /// by closing and reopening `/dev/uioN`, and the kernel formats the rings on that open; the
    /// simulated VMBus has no kernel in between, so its guest end does the same formatting here
    /// before it tells the host the channel is open again. Call only after this end is dropped
    /// from the event loop (nothing may still read or write the old rings).
    public func reopenedAsGuest() throws(ChannelError) -> VMBusChannel {
        let headerSize = ringSize - Int(inbound.ring.dataSize)
        RingHeader.format(memory.baseAddress, headerSize: headerSize)
        RingHeader.format(memory.baseAddress + ringSize, headerSize: headerSize)
        return try VMBusChannel(memory: memory, ringSize: ringSize, headerSize: headerSize, doorbell: doorbell,
                                role: .guest, idleSpin: inbound.idleSpin)
    }
}
