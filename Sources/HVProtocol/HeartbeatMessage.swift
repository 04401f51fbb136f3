/// Body of a HEARTBEAT message (docs/PROTOCOL.md §6.1; Linux `struct heartbeat_msg_data`, openvmm
/// `heartbeat::HeartbeatMessage`).
///
/// Linux declares 40 bytes (seq_num, reserved[8]); openvmm's host sends 16. Only the sequence
/// number is required, so only its 8 bytes are checked.
public enum HeartbeatMessage {
    /// +0 u64 `seq_num`: the host's number; the guest answers with it plus one.
    public static let sequenceOffset = 0
    /// +8 u32 `application_state` (openvmm; inside Linux's reserved area): 0 unknown, 1 healthy,
    /// 2 critical, 3 stopped. Linux echoes whatever the host sent.
    public static let applicationStateOffset = 8
    /// The body bytes a request must have (Linux reads only `seq_num`).
    public static let minimumSize = 8
}
