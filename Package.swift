// swift-tools-version:6.0
// hvagent: a Linux guest agent for Microsoft Hyper-V.
// Dependencies point one way: services -> IC framework -> RingTransport.
import PackageDescription

let package = Package(
    name: "hvagent",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "hvagent", targets: ["hvagent"]),
        .executable(name: "ring-bench", targets: ["ring-bench"]),
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
        // The one errno type (Errno, SystemCallError) and the one EINTR retry (retryingOnInterrupt).
        .target(name: "HVSystem"),
        // The VMBus ring and the channel (two rings + a doorbell), over memory it does not own.
        .target(
            name: "RingTransport",
            dependencies: ["HVProtocol", "CHVSupport", "HVSystem", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // The simulated channel backend: memfd rings + eventfds handed over a Unix socket.
        .target(name: "SimTransport", dependencies: ["RingTransport", "CHVSupport", "HVSystem"]),
        // The configuration file: keys, defaults, parser with file:line errors.
        .target(name: "AgentConfig", dependencies: ["HVSystem"]),
        // VMBus device discovery in sysfs, uio binding, and per-service mode selection.
        .target(name: "VMBusDiscovery", dependencies: ["RingTransport", "HVSystem"]),
        // Daemon plumbing: sd_notify, signalfd, kernel uevents.
        .target(name: "DaemonSupport", dependencies: ["CHVSupport", "HVSystem", .product(name: "Logging", package: "swift-log")]),
        // `hvagent doctor`: checks behind a seam (files, commands) so tests use a fake root.
        .target(name: "AgentDoctor", dependencies: ["AgentConfig", "VMBusDiscovery", "KVPStore", "DaemonSupport", "HVSystem"]),
        .executableTarget(
            name: "hvagent",
            dependencies: [
                "RingTransport", "SimTransport", "VMBusDiscovery", "AgentConfig", "AgentDoctor", "DaemonSupport",
                "ICFramework", "AgentCore", "HostSimulator", "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "HVSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fuzz targets (libFuzzer via scripts/fuzz.sh; corpus replay in the tests).
        .target(
            name: "FuzzTargets",
            dependencies: ["RingTransport", "AgentConfig", "ICFramework", "Heartbeat", "ShutdownSvc", "Timesync", "KVPAgent", "KVPStore"]
        ),
        .executableTarget(name: "hvagent-fuzz", dependencies: ["FuzzTargets"]),
        .executableTarget(
            name: "ring-bench",
            dependencies: ["RingTransport", "CHVSupport"]
        ),
        // IC message framing and version negotiation shared by every integration service.
        .target(name: "ICFramework", dependencies: ["HVProtocol"]),
        // Integration services as pure message handlers over ICFramework.
        // Bounded helper processes (health probes, shutdown hooks): own process group, clean signal mask.
        .target(name: "CProcessSupport"),
        .target(name: "ProcessSupport", dependencies: ["CProcessSupport"]),
        .target(name: "Heartbeat", dependencies: ["ICFramework", "ProcessSupport"]),
        .target(name: "ShutdownSvc", dependencies: ["ICFramework", "ProcessSupport", .product(name: "Logging", package: "swift-log")]),
        // adjtimex(2) wrappers: Swift's Glibc module does not export <sys/timex.h>.
        .target(name: "CClock"),
        .target(name: "Timesync", dependencies: ["ICFramework", "CClock", "HVSystem", .product(name: "Logging", package: "swift-log")]),
        // The simulated Hyper-V host: IC state machines (host side) and the exchange log.
        .target(name: "HostSimulator", dependencies: ["ICFramework", "RingTransport", "SimTransport", "CHVSupport", "Heartbeat", "ShutdownSvc", "Timesync"]),
        // The agent's runtime: one poll loop driving every IC channel over the simulated VMBus.
        .target(
            name: "AgentCore",
            dependencies: ["ICFramework", "RingTransport", "SimTransport", "CHVSupport", "Heartbeat", "ShutdownSvc", "Timesync", "VMBusDiscovery", "KVPAgent", "DaemonSupport"]
        ),
        // Heartbeat round trip and timesync residual benchmarks (docs/PERFORMANCE.md).
        .executableTarget(
            name: "ic-bench",
            dependencies: ["AgentCore", "HostSimulator", "ICFramework", "ShutdownSvc", "SimTransport", "CHVSupport", "Timesync"]
        ),
        .testTarget(name: "ICFrameworkTests", dependencies: ["ICFramework", "RingTransport"]),
        .testTarget(name: "HVSystemTests", dependencies: ["HVSystem"]),
        .testTarget(name: "ServicesTests", dependencies: ["ICFramework", "Heartbeat", "ShutdownSvc", "Timesync", "ProcessSupport", "TestSupport", "HVSystem"]),
        .testTarget(
            name: "HostSimulatorTests",
            dependencies: ["ICFramework", "HostSimulator", "AgentCore", "RingTransport", "SimTransport", "Heartbeat", "ShutdownSvc", "Timesync", "VMBusDiscovery", "TestSupport", "KVPAgent", "KVPStore"]
        ),
        // libnl-3 / libnl-route-3: rtnetlink parsing and notification-driven caches for NetInfo.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        // Live system facts behind KVP: addresses, gateways, DNS, DHCP state, OS info, FQDN.
        .target(name: "NetInfo", dependencies: ["CNetlink", "HVSystem"]),
        .testTarget(name: "NetInfoTests", dependencies: ["NetInfo", "HVSystem"]),
        .testTarget(name: "RingTransportTests", dependencies: ["RingTransport", "SimTransport", "CHVSupport", "TestSupport"]),
        .testTarget(name: "AgentDoctorTests", dependencies: ["AgentDoctor", "AgentConfig", "VMBusDiscovery", "DaemonSupport", "HVSystem"]),
        .testTarget(name: "DaemonSupportTests", dependencies: ["DaemonSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "AgentConfigTests", dependencies: ["AgentConfig"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
        .target(name: "TestSupport", dependencies: ["VMBusDiscovery", "RingTransport", "HVSystem"], path: "Tests/TestSupport"),
        .testTarget(name: "VMBusDiscoveryTests", dependencies: ["VMBusDiscovery", "RingTransport", "TestSupport", "HVSystem"]),
        // KVP pool files (.kvp_pool_0..4): records, locking, cache; shared by daemon and CLI.
        .target(name: "KVPStore", dependencies: ["HVSystem"]),
        // KVP operations engine, the /dev/vmbus/hv_kvp front end and the ring (IC) front end.
        .target(name: "KVPAgent", dependencies: ["KVPStore", "NetInfo", "ICFramework", "HVSystem"]),
        // `kvp`: read and write pools from scripts.
        .executableTarget(
            name: "kvp",
            dependencies: ["KVPStore", "HVSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KVPStoreTests", dependencies: ["KVPStore", "TestSupport", "HVSystem"]),
        .testTarget(name: "KVPAgentTests", dependencies: ["KVPAgent", "KVPStore", "TestSupport", "ICFramework", "HVSystem"]),
        // Runs the built `kvp` executable (the dependency makes sure it is built).
        .testTarget(name: "KVPCLITests", dependencies: ["kvp", "KVPStore", "TestSupport"]),
    ]
)
