import AgentConfig

/// Whether a host SET_IP_INFO can be applied (docs/PROTOCOL.md §7.19.1): the packaged agent holds
/// no CAP_NET_ADMIN, so with IP injection on it needs the IP helper's socket.
extension Doctor {
    func ipInjectionFindings() -> [Finding] {
        guard config[.ipInjection] != .off else { return [] }
        let socket = config[.ipHelperSocket]
        if socket.isEmpty {
            return [Finding("kvp.ip_helper", .info,
                            "kvp.ip_helper_socket is empty: the agent applies SET_IP_INFO itself, so its unit needs CAP_NET_ADMIN and write access to the network configuration")]
        }
        if system.exists(socket) {
            return [Finding("kvp.ip_helper", .ok, "the IP helper's socket \(socket) exists (hvagent-ip.socket)")]
        }
        return [Finding("kvp.ip_helper", .warning,
                        "the IP helper's socket \(socket) does not exist: a host SET_IP_INFO would be answered HV_E_FAIL",
                        fix: "systemctl start hvagent-ip.socket (hvagent.service starts it)")]
    }
}
