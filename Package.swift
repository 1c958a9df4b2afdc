// swift-tools-version:6.0
import PackageDescription

/// The modules on the analysis hot path are optimised across module boundaries in release builds,
/// so that small functions of one (an event record's subscript, a value's equality) inline into
/// another's loops.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "secmon",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "secmon", targets: ["secmon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent.git", from: "4.13.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/leaf.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/leaf-kit.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
    ],
    targets: [
        // Pure: shared value types.
        .target(name: "SecurityModel", swiftSettings: hotPath),
        // Pure: raw lines <-> SecurityEvent.
        .target(name: "LogFormats", dependencies: ["SecurityModel"], swiftSettings: hotPath),
        // Pure: detection primitives (windows, thresholds); Sigma lands here.
        .target(name: "DetectionEngine", dependencies: [
            "SecurityModel",
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: hotPath),
        // Pure: decoding + engine over lines; reports, alert rendering, rule tests.
        .target(name: "Analysis", dependencies: [
            "SecurityModel", "LogFormats", "DetectionEngine",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: hotPath),
        // Pure: incident statuses and their transitions, severities, playbooks, response metrics,
        // safe rendering of analysts' Markdown notes.
        .target(name: "Incidents", dependencies: [
            "SecurityModel",
            .product(name: "Ink", package: "Ink"),
        ]),
        // Pure: active response's kinds, targets and per-rule policies (with escalation), the
        // bounded rate limiter and the login throttle; no I/O, times passed in.
        .target(name: "ActiveResponse", dependencies: ["SecurityModel", "Incidents"]),
        // zlib, for reading gzip-compressed logs.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // Host monitoring: /proc readers and parsers (system, processes, sockets), read through a
        // root that tests point at fixture trees; the process connector; the sensors as a
        // pipeline source whose events carry Sigma's field names.
        .target(name: "HostSensors", dependencies: ["SecurityModel", "EventPipeline"]),
        // Files: the streaming scanner (digests, type from magic bytes, entropy, strings, ELF/PE
        // headers, ZIP listings, indicator matches, verdicts) and file integrity monitoring (tree
        // walks, states, their comparison, ignore patterns). Analysers are pure over byte chunks;
        // the reader and walker are the only I/O.
        .target(name: "FileInspection", dependencies: [
            "SecurityModel",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The security tools: URL analysis (Punycode, look-alike domains; pure), the DNS wire
        // format (pure), the allowlist of targets (pure), and the two network clients (a UDP DNS
        // query, a TCP port check), the only I/O.
        .target(name: "SecurityTools", dependencies: ["SecurityModel", "FileInspection"]),
        // Host response: terminating a process (TERM, then KILL after a grace period; never PID 1,
        // SecMon, its ancestors, kernel threads or allowlisted processes) and quarantining a file
        // (moved with its metadata and hash; restored exactly). I/O by nature, behind refusals.
        .target(name: "HostResponse", dependencies: ["HostSensors", "FileInspection"]),
        // A host's threat score from system, process, network and file integrity evidence, with
        // weights; every point explained. Pure.
        .target(name: "ThreatScore"),
        // A cache prefetch hint, for gathering records in an order the hardware cannot guess.
        .target(name: "CPrefetch"),
        // Runtime: the intake, the detection stage, the alert bus and its sinks, bounded queues,
        // the activity log file, file readers; services run by swift-service-lifecycle.
        .target(name: "EventPipeline", dependencies: [
            "SecurityModel", "LogFormats", "DetectionEngine", "CZlib", "CPrefetch",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "DequeModule", package: "swift-collections"),
            .product(name: "HeapModule", package: "swift-collections"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The Vapor application.
        .target(
            name: "App",
            dependencies: [
                "SecurityModel", "LogFormats", "EventPipeline", "DetectionEngine", "Analysis", "Incidents", "ActiveResponse", "HostSensors", "FileInspection", "SecurityTools", "HostResponse", "ThreatScore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "Fluent", package: "fluent"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Leaf", package: "leaf"),
                .product(name: "LeafKit", package: "leaf-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources")]
        ),
        // `secmon simulate`: the original design's attack scenarios as real HTTP traffic, each
        // attacker from its own loopback address.
        .target(name: "Simulation", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(
            name: "secmon",
            dependencies: [
                "App", "Simulation", "HostSensors", "FileInspection", "ThreatScore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"), "Analysis", "EventPipeline", "DetectionEngine", "LogFormats", "SecurityModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // libFuzzer entry point over the decoders, format detection and the rule loader
        // (scripts/fuzz.sh); built normally, it replays inputs given as arguments.
        .executableTarget(name: "secmon-fuzz", dependencies: ["LogFormats", "DetectionEngine", "SecurityModel"]),
        .testTarget(name: "SecurityModelTests", dependencies: ["SecurityModel"]),
        .testTarget(name: "FileInspectionTests", dependencies: ["FileInspection", "SecurityModel"]),
        .testTarget(name: "SecurityToolsTests", dependencies: ["SecurityTools", "SecurityModel", "FileInspection"]),
        // What more than one test target needs: a child process with default signal handling.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "HostResponseTests", dependencies: ["HostResponse", "HostSensors", "TestSupport"]),
        .testTarget(name: "ThreatScoreTests", dependencies: ["ThreatScore"]),
        .testTarget(name: "HostSensorsTests", dependencies: ["HostSensors", "SecurityModel", "EventPipeline", "LogFormats", "DetectionEngine", "Analysis"], exclude: ["Fixtures"]),
        // Fixtures are read from the source tree (#filePath), not bundled.
        .testTarget(name: "LogFormatsTests", dependencies: ["LogFormats", "SecurityModel"], exclude: ["Fixtures"]),
        .testTarget(name: "IncidentsTests", dependencies: ["Incidents", "SecurityModel"]),
        .testTarget(name: "ActiveResponseTests", dependencies: ["ActiveResponse", "Incidents", "SecurityModel"]),
        .testTarget(name: "DetectionEngineTests", dependencies: ["DetectionEngine", "SecurityModel"]),
        // Fixtures (a labelled generated log and its ground truth) are read from the source tree.
        .testTarget(name: "AnalysisTests", dependencies: [
            "Analysis", "DetectionEngine", "LogFormats", "EventPipeline", "SecurityModel",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ], exclude: ["Fixtures"]),
        .testTarget(name: "EventPipelineTests", dependencies: [
            "EventPipeline", "LogFormats", "DetectionEngine", "SecurityModel",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App", "LogFormats", "Incidents", "ActiveResponse", "Simulation", "EventPipeline", "HostSensors", "FileInspection", "SecurityTools", "ThreatScore", "TestSupport",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "VaporTesting", package: "vapor"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            // A self-signed certificate and key made for the HTTPS test only (CN=127.0.0.1).
            exclude: ["Fixtures"]
        ),
    ]
)
