/// `[services] heartbeat / shutdown / timesync / kvp`: how hvagent should serve an integration
/// service. `ModeSelector` (VMBusDiscovery) turns it into uio or kernel mode for the kernel and
/// device at hand.
public enum ServiceModeChoice: String, ConfigChoice, Hashable {
    /// uio where the kernel supports it, else leave the service to the kernel.
    case auto
    /// Force uio_hv_generic (refused when the kernel or the channel cannot do it).
    case uio
    /// Force the kernel's driver (hv_utils).
    case kernel
    /// Leave the device alone.
    case off
}
