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
        .executable(name: "kvp", targets: ["kvp"]),
        .library(name: "KVPStore", targets: ["KVPStore"]),
        .library(name: "KVPAgent", targets: ["KVPAgent"]),
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
                "KVPAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ring-bench",
            dependencies: ["RingTransport", "CHVSupport"],
            swiftSettings: [.unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"])]
        ),
        .testTarget(name: "RingTransportTests", dependencies: ["RingTransport", "SimTransport", "CHVSupport"]),
        // KVP pool files (.kvp_pool_0..4): records, locking, cache; shared by daemon and CLI.
        .target(name: "KVPStore"),
        // KVP operations engine and the /dev/vmbus/hv_kvp front end.
        .target(name: "KVPAgent", dependencies: ["KVPStore"]),
        // `kvp`: read and write pools from scripts.
        .executableTarget(
            name: "kvp",
            dependencies: ["KVPStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KVPStoreTests", dependencies: ["KVPStore"]),
        .testTarget(name: "KVPAgentTests", dependencies: ["KVPAgent", "KVPStore"]),
        // Runs the built `kvp` executable (the dependency makes sure it is built).
        .testTarget(name: "KVPCLITests", dependencies: ["kvp", "KVPStore"]),
    ]
)
