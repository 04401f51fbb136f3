import AgentConfig
import AgentDaemon
import ArgumentParser
import DaemonSupport
import HVProtocol
import HVSystem
import IPInjection
import NetInfo
#if canImport(Glibc)
import Glibc
#endif

/// `hvagent ip-helper`: the process that applies a host SET_IP_INFO for the agent, run by
/// `hvagent-ip.service` from `hvagent-ip.socket` with CAP_NET_ADMIN and write access to the
/// network configuration, so that `hvagent.service` holds neither (docs/PROTOCOL.md §7.19.1,
/// packaging/README.md "The IP helper").
struct IPHelperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ip-helper",
        abstract: "Apply host IP injection (SET_IP_INFO) for the agent (run by hvagent-ip.socket; not for interactive use).")

    @Option(name: .long, help: "Configuration file (its [kvp] ip_injection, ip_verify_timeout_seconds and pool_dir apply).")
    var config: String = AgentSettings.defaultPath

    @OptionGroup var helper: HelperOptions

    func run() throws {
        let settings = try AgentSettings.load(path: config)
        let listener = try helper.listener(socketUnit: "hvagent-ip.socket")
        let signals = try SignalEvents([SIGTERM, SIGINT])
        let injector: any IPInjecting
        if let kind = settings[.ipInjection].backendKind {
            injector = IPInjector(kind: kind, tracker: try AddressTracker(),
                                  verifyTimeout: .seconds(settings[.ipVerifyTimeoutSeconds]),
                                  compatibilityDirectory: settings[.kvpPoolDir])
        } else {
            injector = InjectionOff()
        }
        IPHelper(listener: listener, injector: injector, peerCheck: helper.peerCheck, idleExitSeconds: helper.idleExit,
                 log: HelperOptions.log)
            .run(stop: signals.descriptor)
    }
}

/// `[kvp] ip_injection = off` in the helper's reading of the configuration: every request is
/// refused (the agent, reading the same file, sends none).
private struct InjectionOff: IPInjecting {
    func set(_ settings: HostIPSettings) -> IPInjector.Outcome {
        IPInjector.Outcome(status: .fail, message: "SET_IP_INFO for \(settings.adapterID) answered HV_E_FAIL: IP injection is off ([kvp] ip_injection)")
    }
}
