import App
import HostSensors
import ArgumentParser
import EventPipeline
import Foundation
import Incidents
import SecurityModel
import ThreatScore

/// `secmon serve`: the web application, the API and the activity log.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the SecMon server.",
        discussion: """
            Creates the data directory, the database (migrated automatically) and the activity log on \
            first start. With no users yet, creates 'admin' with a one-time password, printed once \
            (or SECMON_ADMIN_PASSWORD), to be changed at first login.
            """
    )

    @Option(name: .long, help: ArgumentHelp("Address to listen on. [env: SECMON_HOSTNAME] (default: 127.0.0.1)", valueName: "address"))
    var hostname: String?

    @Option(name: .long, help: ArgumentHelp("Port to listen on. [env: SECMON_PORT] (default: 8080)", valueName: "port"))
    var port: Int?

    @OptionGroup var storage: StorageOptions

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A proxy (address or CIDR) whose X-Forwarded-For and X-Forwarded-Proto are believed; repeatable. [env: SECMON_TRUSTED_PROXIES, comma-separated]", valueName: "cidr"))
    var trustedProxy: [String] = []

    @Option(name: .long, help: ArgumentHelp("When an activity line counts as written: written (before the answer, fsync every second), synced (fsync before the answer) or buffered (within 50 ms). [env: SECMON_LOG_FLUSH] (default: written)", valueName: "mode"))
    var logFlush: String?

    @Option(name: .long, help: ArgumentHelp("Sigma rules run live on the server's activity (directory or file). [env: SECMON_RULES] (default: the bundled pack)", valueName: "path"))
    var rules: String?

    @Option(name: .long, help: ArgumentHelp("TLS certificate chain (PEM); with --tls-key, serve HTTPS. [env: SECMON_TLS_CERT]", valueName: "path"))
    var tlsCert: String?

    @Option(name: .long, help: ArgumentHelp("TLS private key (PEM). [env: SECMON_TLS_KEY]", valueName: "path"))
    var tlsKey: String?

    @Option(name: .long, help: ArgumentHelp("This node's name, carried by the alerts it raises; give each node sharing a database its own. [env: SECMON_NODE] (default: the host name)", valueName: "name"))
    var node: String?

    @Option(name: .long, help: ArgumentHelp("Most groups (distinct group-by keys) one correlation keeps live; beyond it the least recently active are evicted and a SECMON-EVICTION alert is raised. [env: SECMON_MAX_GROUPS] (default: 200000)", valueName: "n"))
    var maxGroups: Int?

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A host name (or address) this server answers for, as browsers send it in Host; repeatable. Others get 421. [env: SECMON_ALLOWED_HOSTS, comma-separated] (default: the loopback names when listening on loopback, else any)", valueName: "name"))
    var allowedHost: [String] = []

    @Option(name: .long, help: ArgumentHelp("Most requests one client address may have in progress at once; more get 429. [env: SECMON_MAX_IN_FLIGHT] (default: 128)", valueName: "n"))
    var maxInFlight: Int?

    @Option(name: .long, help: ArgumentHelp("Close connections with nothing read or written for this many seconds (0: never). [env: SECMON_IDLE_TIMEOUT] (default: 60)", valueName: "seconds"))
    var idleTimeout: Int?

    @Flag(name: .long, help: ArgumentHelp("Automatic responses (the rules' response policies) only record what they would have done. [env: SECMON_RESPONSE_DRY_RUN=1]"))
    var responseDryRun = false

    @Option(name: .long, help: ArgumentHelp("Watch this host's system, processes and network: on or off. [env: SECMON_HOST_SENSORS] (default: on)", valueName: "on|off"))
    var hostSensors: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between the host sensors' readings of the system, processes and sockets. [env: SECMON_HOST_INTERVAL] (default: 5)", valueName: "seconds"))
    var hostInterval: Double?

    @Option(name: .long, help: ArgumentHelp("Minutes between file integrity checks of the watched paths; 0 checks only when asked. [env: SECMON_FIM_INTERVAL] (default: 60)", valueName: "minutes"))
    var fimInterval: Int?

    @Option(name: .long, help: ArgumentHelp("The largest file the console and API accept for scanning, in MiB. [env: SECMON_SCAN_MAX_MIB] (default: 512)", valueName: "MiB"))
    var scanMaxMib: Int?

    @Option(name: .long, help: ArgumentHelp("The YARA rules (*.yar) the file scanner runs through libyara. [env: SECMON_YARA_RULES] (default: the rule pack's yara folder)", valueName: "dir"))
    var yaraRules: String?

    @Option(name: .long, help: ArgumentHelp("The DNS server the DNS lookup tool asks, as ADDRESS or ADDRESS:PORT ([ADDRESS]:PORT for IPv6). [env: SECMON_DNS_SERVER] (default: the first nameserver of /etc/resolv.conf)", valueName: "address"))
    var dnsServer: String?

    @Option(name: .long, help: ArgumentHelp("Post new incidents to this webhook (Slack, Mattermost, or any JSON receiver); https, or http to loopback. [env: SECMON_NOTIFY_WEBHOOK]", valueName: "url"))
    var notifyWebhook: String?

    @Option(name: .long, help: ArgumentHelp("The least severe incident the webhook is told of: low, medium, high or critical. [env: SECMON_NOTIFY_LEVEL] (default: high)", valueName: "severity"))
    var notifyLevel: String?

    @Option(name: .long, help: ArgumentHelp("The console's address as people reach it, for links in notifications (https://secmon.example.net). [env: SECMON_PUBLIC_URL]", valueName: "url"))
    var publicURL: String?

    @Option(name: .long, help: ArgumentHelp("Send alerts to a SIEM's syslog input, as tcp://HOST:PORT or udp://HOST:PORT (RFC 5424; TCP with octet counting). [env: SECMON_SYSLOG_EXPORT]", valueName: "url"))
    var syslogExport: String?

    @Option(name: .long, help: ArgumentHelp("A log file to follow as a live source, as FORMAT:PATH (formats: syslog for sshd/auth logs, access for nginx/Apache, json, activity); repeat for more. [env: SECMON_TAIL, comma-separated]", valueName: "format:path"))
    var tail: [String] = []

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        var config = SecMonConfig()
        try storage.apply(to: &config, env)
        config.hostname = hostname ?? env["SECMON_HOSTNAME"] ?? "127.0.0.1"
        if let port {
            config.port = port
        } else if let text = env["SECMON_PORT"] {
            guard let value = Int(text) else { throw CommandLineError("SECMON_PORT must be a port number, not '\(text)'") }
            config.port = value
        }
        guard (0...65535).contains(config.port) else { throw CommandLineError("the port must be between 0 and 65535") }
        let proxies = trustedProxy + (env["SECMON_TRUSTED_PROXIES"]?.split(separator: ",").map(String.init) ?? [])
        config.trustedProxies = try proxies.map { text in
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard let block = CIDRBlock(trimmed) else {
                throw CommandLineError("'\(trimmed)' is not an address or CIDR block (examples: 10.0.0.1, 10.0.0.0/8, ::1)")
            }
            return block
        }
        let mode = logFlush ?? env["SECMON_LOG_FLUSH"] ?? "written"
        guard let flushMode = FlushPolicy.Mode(rawValue: mode) else {
            throw CommandLineError("unknown --log-flush '\(mode)'; use written, synced or buffered")
        }
        config.flushPolicy.mode = flushMode
        config.rulesPath = rules ?? env["SECMON_RULES"].flatMap { $0.isEmpty ? nil : $0 }
        config.tlsCertificatePath = tlsCert ?? env["SECMON_TLS_CERT"]
        config.tlsKeyPath = tlsKey ?? env["SECMON_TLS_KEY"]
        guard (config.tlsCertificatePath == nil) == (config.tlsKeyPath == nil) else {
            throw CommandLineError("give both --tls-cert and --tls-key, or neither")
        }
        if let name = node ?? env["SECMON_NODE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            guard name.utf8.count <= 128 else { throw CommandLineError("--node must be at most 128 bytes") }
            config.nodeName = name
        }
        if let text = maxGroups.map(String.init) ?? env["SECMON_MAX_GROUPS"] {
            guard let value = Int(text), value >= 1 else { throw CommandLineError("--max-groups must be a whole number of at least 1, not '\(text)'") }
            config.maxGroupsPerCorrelation = value
        }
        config.allowedHosts = (allowedHost + (env["SECMON_ALLOWED_HOSTS"]?.split(separator: ",").map(String.init) ?? []))
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if let text = maxInFlight.map(String.init) ?? env["SECMON_MAX_IN_FLIGHT"] {
            guard let value = Int(text), value >= 1 else { throw CommandLineError("--max-in-flight must be a whole number of at least 1, not '\(text)'") }
            config.maxInFlightPerSource = value
        }
        if let text = idleTimeout.map(String.init) ?? env["SECMON_IDLE_TIMEOUT"] {
            guard let value = Int(text), value >= 0 else { throw CommandLineError("--idle-timeout must be a whole number of seconds, 0 or more, not '\(text)'") }
            config.idleTimeoutSeconds = value == 0 ? nil : value
        }
        let sensors = (hostSensors ?? env["SECMON_HOST_SENSORS"] ?? "on").lowercased()
        guard ["on", "off", "1", "0", "true", "false"].contains(sensors) else {
            throw CommandLineError("--host-sensors must be on or off, not '\(sensors)'")
        }
        if ["on", "1", "true"].contains(sensors) {
            var host = HostMonitor.Configuration()
            if let text = hostInterval.map({ String($0) }) ?? env["SECMON_HOST_INTERVAL"] {
                guard let seconds = Double(text), seconds.isFinite, seconds >= 1, seconds <= 3600 else {
                    throw CommandLineError("--host-interval must be between 1 and 3600 seconds, not '\(text)'")
                }
                host.systemInterval = .milliseconds(Int64(seconds * 1000))
                host.networkInterval = .milliseconds(Int64(seconds * 1000))
            }
            config.hostSensors = host
        }
        if let path = env["SECMON_HOST_LOG"], !path.isEmpty { config.hostLogPath = path }
        let fimText = fimInterval.map(String.init) ?? env["SECMON_FIM_INTERVAL"] ?? "60"
        guard let minutes = Int(fimText), (0...10_080).contains(minutes) else {
            throw CommandLineError("--fim-interval must be a whole number of minutes from 0 (off) to 10080 (a week), not '\(fimText)'")
        }
        config.fileIntegrityIntervalSeconds = minutes == 0 ? nil : Double(minutes * 60)
        if let text = scanMaxMib.map(String.init) ?? env["SECMON_SCAN_MAX_MIB"] {
            guard let mib = Int(text), (1...65_536).contains(mib) else {
                throw CommandLineError("--scan-max-mib must be a whole number of MiB from 1 to 65536, not '\(text)'")
            }
            config.scanUploadMaxBytes = mib << 20
        }
        if let path = yaraRules ?? env["SECMON_YARA_RULES"], !path.isEmpty { config.yaraRulesPath = path }
        if let text = dnsServer ?? env["SECMON_DNS_SERVER"], !text.isEmpty {
            guard let (address, port) = Self.dnsServer(text) else {
                throw CommandLineError("--dns-server must be an address, ADDRESS:PORT or [IPv6]:PORT, such as 127.0.0.53 or [::1]:5353, not '\(text.prefix(80))'")
            }
            config.dnsServer = address
            config.dnsPort = port
        }
        if let text = env["SECMON_LOG_CHAIN"], !text.isEmpty {
            switch text.lowercased() {
            case "on", "1", "true": config.chainLogs = true
            case "off", "0", "false": config.chainLogs = false
            default: throw CommandLineError("SECMON_LOG_CHAIN must be on or off, not '\(text.prefix(20))'")
            }
        }
        if let text = syslogExport ?? env["SECMON_SYSLOG_EXPORT"], !text.isEmpty { config.syslogExport = text }
        if let text = notifyWebhook ?? env["SECMON_NOTIFY_WEBHOOK"], !text.isEmpty { config.notifyWebhook = text }
        if let text = notifyLevel ?? env["SECMON_NOTIFY_LEVEL"], !text.isEmpty {
            guard let level = IncidentSeverity(rawValue: text.lowercased()) else {
                throw CommandLineError("--notify-level must be low, medium, high or critical, not '\(text.prefix(40))'")
            }
            config.notifyLevel = level
        }
        if let text = publicURL ?? env["SECMON_PUBLIC_URL"], !text.isEmpty {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw CommandLineError("--public-url must be the console's http(s) address, such as https://secmon.example.net, not '\(text.prefix(80))'")
            }
            config.publicURL = text
        }
        let tails = tail.isEmpty ? (env["SECMON_TAIL"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } : tail
        for text in tails {
            do { config.tailFiles.append(try FileTailSource.Spec(parsing: text)) } catch {
                throw CommandLineError("--tail: \(error.description)")
            }
        }
        if let text = env["SECMON_TERMINATE_GRACE"], !text.isEmpty {
            guard let seconds = Double(text), seconds >= 0, seconds <= 300 else {
                throw CommandLineError("SECMON_TERMINATE_GRACE must be the seconds a process has after SIGTERM, from 0 to 300, not '\(text.prefix(40))'")
            }
            config.terminateGraceMilliseconds = Int(seconds * 1000)
        }
        config.threatScoreIntervalSeconds = 60
        if let text = env["SECMON_THREAT_WEIGHTS"], !text.isEmpty {
            config.threatWeights = try Self.weights(text)
        }
        config.processAllowlist = Self.list(env["SECMON_PROCESS_ALLOWLIST"])
        config.quarantineAllowlist = Self.list(env["SECMON_QUARANTINE_ALLOWLIST"])
        // The key is read from the environment or a file only: a command line shows in `ps`.
        config.reputation = try ReputationLookup.Settings.from(environment: env)
        config.initialAdminPassword = env["SECMON_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        config.responseDryRun = responseDryRun || ["1", "true", "yes"].contains(env["SECMON_RESPONSE_DRY_RUN"]?.lowercased() ?? "")
        try await SecMonServer.serve(config, logLevel: try storage.level(env))
    }

    /// `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53` or `[2001:db8::53]:5353`.
    static func dnsServer(_ text: String) -> (IPAddress, UInt16)? {
        if let address = IPAddress(text) { return (address, 53) }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() } else if host.contains(":") { return nil }
        guard let address = IPAddress(host) else { return nil }
        return (address, port)
    }

    /// A comma-separated list from the environment, trimmed, without empty items.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `system=0.25,process=0.3,network=0.25,file_integrity=0.2` (every factor named, adding up to 1).
    static func weights(_ text: String) throws -> ThreatWeights {
        var values: [String: Double] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Double(parts[1]), ThreatFactor(rawValue: parts[0]) != nil else {
                throw CommandLineError("SECMON_THREAT_WEIGHTS: '\(item.prefix(60))' is not FACTOR=WEIGHT (factors: system, process, network, file_integrity)")
            }
            values[parts[0]] = value
        }
        guard values.count == 4 else { throw CommandLineError("SECMON_THREAT_WEIGHTS: name all four factors: system, process, network, file_integrity") }
        let weights = ThreatWeights(system: values["system"]!, process: values["process"]!, network: values["network"]!, fileIntegrity: values["file_integrity"]!)
        if let problem = weights.problem { throw CommandLineError("SECMON_THREAT_WEIGHTS: \(problem)") }
        return weights
    }
}
