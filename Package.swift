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
        .library(name: "RingTransport", targets: ["RingTransport"]),
        .library(name: "NetInfo", targets: ["NetInfo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Thin C helpers for what Swift cannot import (cmsg macros, CPU_SET, memfd, eventfd).
        .target(name: "CHVSupport"),
        // The VMBus ring and the channel (two rings + a doorbell), over memory it does not own.
        .target(
            name: "RingTransport",
            dependencies: ["CHVSupport", .product(name: "Atomics", package: "swift-atomics")]
        ),
        // The simulated channel backend: memfd rings + eventfds handed over a Unix socket.
        .target(name: "SimTransport", dependencies: ["RingTransport", "CHVSupport"]),
        .executableTarget(
            name: "hvagent",
            dependencies: [
                "RingTransport", "SimTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ring-bench",
            dependencies: ["RingTransport", "CHVSupport"],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"])]
        ),
        // libnl-3 / libnl-route-3: rtnetlink parsing and notification-driven caches for NetInfo.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
        ),
        // Live system facts behind KVP: addresses, gateways, DNS, DHCP state, OS info, FQDN.
        .target(name: "NetInfo", dependencies: ["CNetlink"]),
        .testTarget(name: "NetInfoTests", dependencies: ["NetInfo"]),
        .testTarget(name: "RingTransportTests", dependencies: ["RingTransport", "SimTransport", "CHVSupport"]),
    ]
)
