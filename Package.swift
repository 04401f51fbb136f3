// swift-tools-version:6.0
// hvagent: a Linux guest agent for Microsoft Hyper-V.
// Dependencies point one way: services -> IC framework -> RingTransport.
import PackageDescription

let package = Package(
    name: "hvagent",
    products: [
        .executable(name: "hvagent", targets: ["hvagent"]),
        .executable(name: "ring-bench", targets: ["ring-bench"]),
        .executable(name: "ring-peer", targets: ["ring-peer"]),
        .executable(name: "hvagent-fuzz", targets: ["hvagent-fuzz"]),
        .executable(name: "ic-bench", targets: ["ic-bench"]),
        .library(name: "RingTransport", targets: ["RingTransport"]),
        .library(name: "ICFramework", targets: ["ICFramework"]),
        .library(name: "HostSimulator", targets: ["HostSimulator"]),
        .executable(name: "kvp", targets: ["kvp"]),
        .library(name: "KVPStore", targets: ["KVPStore"]),
        .library(name: "KVPAgent", targets: ["KVPAgent"]),
        .library(name: "NetInfo", targets: ["NetInfo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Wire types only: every layout, GUID and version list of the VMBus ICs (docs/PROTOCOL.md).
        .target(name: "HVProtocol"),
        // Thin C helpers for what Swift cannot import (cmsg macros, CPU_SET, memfd, eventfd).
        .target(name: "CHVSupport"),
        // The one system-call layer: one errno type (Errno, SystemCallError), one EINTR retry
        // (retryingOnInterrupt), and the clocks a simulation runs on (TimeSource).
        .target(name: "HVSystem", dependencies: ["CHVSupport"]),
        // The VMBus ring and the channel (two rings + a doorbell), over memory it does not own.
        .target(
            name: "RingTransport",
            dependencies: ["HVProtocol", "CHVSupport", "HVSystem", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // The simulated channel backend: memfd rings + eventfds handed over a Unix socket.
        .target(name: "SimTransport", dependencies: ["RingTransport", "CHVSupport", "HVSystem"]),
        // The configuration file: typed keys, defaults, parser with file:line errors.
        .target(name: "AgentConfig", dependencies: ["HVSystem"]),
        // VMBus device discovery in sysfs, uio binding, and per-service mode selection (from the
        // configuration's [services] choices).
        .target(name: "VMBusDiscovery", dependencies: ["HVProtocol", "HVSystem", "RingTransport", "AgentConfig"]),
        // Daemon plumbing: sd_notify, signalfd, kernel uevents.
        .target(name: "DaemonSupport", dependencies: ["CHVSupport", "HVProtocol", "HVSystem", "AgentConfig", .product(name: "Logging", package: "swift-log")]),
        // `hvagent doctor`: checks behind a seam (files, commands) so tests use a fake root.
        .target(name: "AgentDoctor", dependencies: ["AgentConfig", "VMBusDiscovery", "KVPStore", "DaemonSupport", "HVSystem", "VSS"]),
        // The daemon as a library: the service table, and every way of running the agent (installed
        // daemon, simulated VMBus, demo, kvp-daemon) wired in one place; the executables parse
        // arguments and call it.
        .target(
            name: "AgentDaemon",
            dependencies: [
                "AgentConfig", "AgentCore", "DaemonSupport", "HVProtocol", "HVSystem", "HostSimulator", "SimTransport", "VMBusDiscovery",
                "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "KVPStore", "NetInfo", "RingTransport", "FileCopy", "VSS", "ProcessSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "hvagent",
            dependencies: [
                "AgentDaemon", "AgentConfig", "AgentDoctor", "DaemonSupport", "HVProtocol", "HVSystem", "HostSimulator", "SimTransport",
                "VMBusDiscovery", "RingTransport", "Timesync", "KVPAgent", "KVPStore", "VSS", "IPInjection", "NetInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fuzz targets (libFuzzer via scripts/fuzz.sh; corpus replay in the tests).
        .target(
            name: "FuzzTargets",
            dependencies: ["RingTransport", "AgentConfig", "ICFramework", "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "KVPStore", "HVSystem", "FileCopy", "VSS", "HVProtocol"]
        ),
        .executableTarget(name: "hvagent-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "ring-bench",
            dependencies: ["RingTransport", "CHVSupport"]
        ),
        // hvagent's ring as the far end of a channel file, for the DPDK interop test
        // (scripts/dpdk-interop.sh); same command line and packet lines as ringref-peer.
        .executableTarget(name: "ring-peer", dependencies: ["RingTransport", "HVSystem"]),
        // IC message framing and version negotiation shared by every integration service.
        .target(name: "ICFramework", dependencies: ["HVProtocol"]),
        // Integration services as pure message handlers over ICFramework.
        // Bounded helper processes (health probes, shutdown hooks): own process group, clean signal mask;
        // a probe's end is an event-loop event (pidfd + timerfd in one epoll set).
        .target(name: "CProcessSupport"),
        .target(name: "ProcessSupport", dependencies: ["CProcessSupport", "CHVSupport", "HVSystem"]),
        .target(name: "Heartbeat", dependencies: ["AgentCore", "HVProtocol", "HVSystem", "ICFramework", "ProcessSupport"]),
        .target(name: "ShutdownSvc", dependencies: ["AgentCore", "HVProtocol", "ICFramework", "ProcessSupport", .product(name: "Logging", package: "swift-log")]),
        // adjtimex(2) wrappers: Swift's Glibc module does not export <sys/timex.h>.
        .target(name: "CClock"),
        // Copy-VMFile: the file-copy state machine over the ring and /dev/vmbus/hv_fcopy.
        .target(name: "CFileCopy"),
        .target(name: "FileCopy", dependencies: ["AgentCore", "DaemonSupport", "HVProtocol", "HVSystem", "ICFramework", "CFileCopy", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "FileCopyTests", dependencies: ["FileCopy", "HVProtocol", "ICFramework", "AgentCore", "TestSupport", "HostSimulator", "SimTransport"]),
        .target(name: "Timesync", dependencies: ["AgentCore", "DaemonSupport", "HVProtocol", "HVSystem", "ICFramework", "CClock", .product(name: "Logging", package: "swift-log")]),
        // Backups (VSS): freeze and thaw per docs/PROTOCOL.md §6.5, both modes, off the loop.
        .target(name: "VSS", dependencies: ["AgentConfig", "AgentCore", "DaemonSupport", "HVProtocol", "HVSystem", "ICFramework", "ProcessSupport", "CHVSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "VSSTests", dependencies: ["VSS", "HVProtocol", "ICFramework", "AgentCore", "AgentConfig", "DaemonSupport", "TestSupport", "HostSimulator", "SimTransport"]),
        // The simulated Hyper-V host: IC state machines and message codecs of its own (host side) and
        // the exchange log. No guest module: a layout mistake on either side must show in the tests.
        .target(name: "HostSimulator", dependencies: ["HVProtocol", "HVSystem", "RingTransport", "SimTransport", "CHVSupport"]),
        // The guest's services run against the host's logic in one process, in simulated time.
        .target(name: "SimScenarios", dependencies: ["HostSimulator", "ICFramework", "Timesync", "HVSystem", "HVProtocol"]),
        // The agent's runtime: one poll loop driving every IC channel over the simulated VMBus.
        .target(
            name: "AgentCore",
            dependencies: ["HVProtocol", "HVSystem", "ICFramework", "RingTransport", "SimTransport", "CHVSupport", "VMBusDiscovery", "DaemonSupport"]
        ),
        // Heartbeat round trip and timesync residual benchmarks (docs/PERFORMANCE.md).
        .executableTarget(
            name: "ic-bench",
            dependencies: ["AgentCore", "HostSimulator", "SimScenarios", "HVProtocol", "HVSystem", "Heartbeat", "SimTransport", "CHVSupport", "Timesync"]
        ),
        .testTarget(name: "ICFrameworkTests", dependencies: ["ICFramework", "RingTransport"]),
        .testTarget(name: "HVSystemTests", dependencies: ["HVSystem", "CHVSupport"]),
        .testTarget(name: "ServicesTests", dependencies: ["ICFramework", "Heartbeat", "ShutdownSvc", "Timesync", "HVSystem", "ProcessSupport", "TestSupport"]),
        // The simulated host's own codecs and state machines.
        .testTarget(
            name: "HostSimulatorTests",
            dependencies: ["HostSimulator", "SimScenarios", "TestSupport", "HVProtocol", "HVSystem", "ICFramework", "RingTransport",
                           "SimTransport", "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "FileCopy", "VSS"]
        ),
        // The agent's loop against the simulated host: negotiation, malicious host, reopen, faults.
        .testTarget(
            name: "AgentLoopTests",
            dependencies: ["TestSupport", "AgentCore", "HostSimulator", "HVProtocol", "HVSystem", "ICFramework", "RingTransport",
                           "SimTransport", "Heartbeat", "ShutdownSvc", "Timesync", "VMBusDiscovery", "CHVSupport"]
        ),
        // The agent as a process: SIGHUP reloads, journald priorities, chrony's SOCK refclock.
        .testTarget(name: "ReloadTests", dependencies: ["TestSupport"]),
        .testTarget(name: "JournaldTests", dependencies: ["TestSupport"]),
        .testTarget(name: "ChronyTests", dependencies: ["TestSupport", "AgentCore", "HVSystem", "HostSimulator", "Timesync"]),
        // KVP over the simulated ring, in process and as two processes, and the CLI on served pools.
        .testTarget(
            name: "KVPOverUIOTests",
            dependencies: ["TestSupport", "AgentCore", "HVProtocol", "HVSystem", "HostSimulator", "ICFramework", "KVPAgent", "KVPStore",
                           "RingTransport", "ShutdownSvc", "Timesync", "VMBusDiscovery", "IPInjection"]
        ),
        .testTarget(name: "AgentDaemonTests", dependencies: ["AgentConfig", "AgentCore", "AgentDaemon", "Heartbeat", "ShutdownSvc", "Timesync", "HVProtocol"]),
        // libnl-3 / libnl-route-3: rtnetlink parsing and notification-driven caches for NetInfo.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        // Live system facts behind KVP: addresses, gateways, DNS, DHCP state, OS info, FQDN.
        .target(name: "NetInfo", dependencies: ["CNetlink", "HVSystem"]),
        // A small blocking D-Bus client (docs/PROTOCOL.md §7.20): the network managers' APIs for IP injection.
        .target(name: "SystemBus", dependencies: ["DaemonSupport", "HVSystem"]),
        .testTarget(name: "SystemBusTests", dependencies: ["SystemBus", "TestSupport"]),
        // SET_IP_INFO: the host's address configuration checked, written and applied (docs/PROTOCOL.md §7.19).
        .target(name: "IPInjection", dependencies: ["CNetlink", "DaemonSupport", "HVProtocol", "HVSystem", "NetInfo", "ProcessSupport", "SystemBus"]),
        .testTarget(name: "IPInjectionTests", dependencies: ["IPInjection", "DaemonSupport", "HVProtocol", "HVSystem", "NetInfo", "SystemBus", "TestSupport"]),
        .testTarget(name: "NetInfoTests", dependencies: ["NetInfo", "HVSystem", "TestSupport"]),
        .testTarget(name: "RingTransportTests", dependencies: ["RingTransport", "SimTransport", "CHVSupport", "TestSupport"]),
        .testTarget(name: "AgentDoctorTests", dependencies: ["AgentDoctor", "AgentConfig", "VMBusDiscovery", "DaemonSupport", "HVSystem", "VSS"]),
        .testTarget(name: "DaemonSupportTests", dependencies: ["DaemonSupport", "AgentConfig", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AgentConfigTests", dependencies: ["AgentConfig"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
        // Helpers shared by the test targets, defined once: temporary directories, a fake sysfs, the
        // agent against the simulated host (in process, under attack, or as processes).
        .target(
            name: "TestSupport",
            dependencies: ["VMBusDiscovery", "RingTransport", "SimTransport", "HostSimulator", "HVProtocol", "HVSystem", "ICFramework",
                           "AgentCore", "DaemonSupport", "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "FileCopy", "IPInjection", "SystemBus", "VSS"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "VMBusDiscoveryTests", dependencies: ["VMBusDiscovery", "RingTransport", "TestSupport", "AgentConfig", "HVSystem", "HVProtocol"]),
        // KVP pool files (.kvp_pool_0..4): records, locking, cache; shared by daemon and CLI.
        .target(name: "KVPStore", dependencies: ["HVSystem"]),
        // KVP operations engine, the /dev/vmbus/hv_kvp front end and the ring (IC) front end.
        .target(name: "KVPAgent", dependencies: ["AgentCore", "DaemonSupport", "HVProtocol", "HVSystem", "IPInjection", "KVPStore", "NetInfo", "ICFramework", .product(name: "Logging", package: "swift-log")]),
        // `kvp`: read and write pools from scripts.
        .executableTarget(
            name: "kvp",
            dependencies: ["KVPStore", "HVSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KVPStoreTests", dependencies: ["KVPStore", "TestSupport", "HVSystem"]),
        .testTarget(name: "KVPAgentTests", dependencies: ["KVPAgent", "KVPStore", "TestSupport", "ICFramework", "HVSystem", "IPInjection"]),
        // Runs the built `kvp` executable (the dependency makes sure it is built).
        .testTarget(name: "KVPCLITests", dependencies: ["kvp", "KVPStore", "TestSupport"]),
    ]
)
