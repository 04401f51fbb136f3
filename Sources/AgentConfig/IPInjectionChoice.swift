/// `[kvp] ip_injection`: whether and how a host SET_IP_INFO is applied (docs/ARCHITECTURE.md,
/// "IP injection"). `auto` hands the configuration to whatever manages the interface; a named
/// backend is used whatever manages it (and fails the request when that manager does not).
public enum IPInjectionChoice: String, ConfigChoice, Hashable {
    /// Answer HV_E_FAIL (HV_GUID_NOTFOUND for an unknown adapter); change nothing.
    case off
    /// By what manages the interface: netplan, NetworkManager, systemd-networkd, the ifcfg layout,
    /// else netlink.
    case auto
    /// A profile `hvagent-<if>` over NetworkManager's D-Bus API.
    case networkmanager
    /// `/etc/systemd/network/00-hvagent-<if>.network`, then networkd's Reload over D-Bus.
    case networkd
    /// `/etc/netplan/90-hvagent-<if>.yaml`, then `netplan apply`.
    case netplan
    /// `/etc/sysconfig/network-scripts/ifcfg-<if>`, applied live over rtnetlink.
    case ifcfg
    /// Over rtnetlink only, for interfaces no network manager looks after; not persistent.
    case netlink
}
