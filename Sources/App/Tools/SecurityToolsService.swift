import Dispatch
import FileInspection
import Foundation
import Incidents
import SecurityModel
import SecurityTools
import SQLKit

/// The security tools administrators use during an investigation: a DNS lookup, a TCP port
/// check restricted to loopback and allowlisted targets, and URL analysis of the text alone.
/// Every use is audited (`tools.dns`, `tools.port`, `tools.url`), refusals included. Network
/// work runs on a thread of its own, never on an event loop.
public struct SecurityToolsService: Sendable {
    let database: @Sendable () -> (any SQLDatabase)?
    /// The DNS server asked; nil is the system's (`/etc/resolv.conf`).
    let dnsServer: IPAddress?
    let dnsPort: UInt16
    let audit: @Sendable (AuditTrail.Entry) async -> Void

    public init(database: @escaping @Sendable () -> (any SQLDatabase)?, dnsServer: IPAddress?, dnsPort: UInt16 = 53,
                audit: @escaping @Sendable (AuditTrail.Entry) async -> Void) {
        self.database = database
        self.dnsServer = dnsServer
        self.dnsPort = dnsPort
        self.audit = audit
    }

    /// The types the DNS lookup offers.
    public static let lookupTypes: [DNSMessage.RecordType] = [.a, .aaaa, .mx, .txt, .ptr]

    func sql() throws -> any SQLDatabase {
        guard let sql = database() else { throw IncidentRefusal(.invalid, field: "database", "not available; try again when SecMon has started") }
        return sql
    }

    /// The settings (allowed targets, watched domains).
    public func settings() async throws -> ToolSettingsStore.Settings {
        try await ToolSettingsStore(database: try sql()).settings()
    }

    // MARK: DNS

    /// A DNS answer as the page and the API show it.
    public struct DNSAnswer: Sendable, Encodable {
        public var query: String
        /// The name asked, in ASCII (an address's reverse name for PTR).
        public var name: String
        public var type: String
        public var server: String
        public var status: String
        public var truncated: Bool
        public var milliseconds: Int
        public var records: [DNSMessage.Record]
    }

    /// Looks up `text` (a name; an address for PTR) of `typeName` (A, AAAA, MX, TXT, PTR).
    public func dns(_ text: String, type typeName: String, by actor: AuditTrail.Actor) async throws -> DNSAnswer {
        do {
            return try await lookup(text, type: typeName, by: actor)
        } catch let refusal as IncidentRefusal {
            await audit(.init(actor: actor, action: "tools.dns", target: "dns:\(text.trimmingCharacters(in: .whitespaces).prefix(80))",
                              after: "\(typeName.prefix(8)): refused: \(refusal.reason)"))
            throw refusal
        }
    }

    private func lookup(_ text: String, type typeName: String, by actor: AuditTrail.Actor) async throws -> DNSAnswer {
        let query = text.trimmingCharacters(in: .whitespaces)
        guard let type = DNSMessage.RecordType(name: typeName), Self.lookupTypes.contains(type) else {
            throw IncidentRefusal(.invalid, field: "type", "choose A, AAAA, MX, TXT or PTR")
        }
        let name: String
        do {
            if let address = IPAddress(query) {
                guard type == .ptr else { throw IncidentRefusal(.invalid, field: "name", "\(query) is an address: choose PTR to find its name") }
                name = DomainName.reverse(address)
            } else {
                name = try DomainName.validate(query)
            }
        } catch let refusal as DomainName.Refusal {
            throw IncidentRefusal(.invalid, field: "name", refusal.description)
        }
        guard let server = dnsServer ?? DNSClient.systemServer() else {
            throw IncidentRefusal(.invalid, field: "name", "no DNS server is configured (/etc/resolv.conf has no nameserver; set SECMON_DNS_SERVER)")
        }
        let client = DNSClient(server: server, port: dnsPort)
        let started = DispatchTime.now().uptimeNanoseconds
        let response: DNSMessage.Response
        do {
            response = try await BlockingWork.run { try client.lookup(name, type: type) }
        } catch let failure as DNSClient.Failure {
            throw IncidentRefusal(.invalid, field: "name", "no answer: \(failure.description)")
        }
        let answer = DNSAnswer(query: query, name: name, type: type.name, server: "\(server)", status: response.status, truncated: response.truncated,
                               milliseconds: Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000), records: response.answers)
        await audit(.init(actor: actor, action: "tools.dns", target: "dns:\(name)",
                          after: "\(type.name) from \(server): \(response.status), \(response.answers.count) record(s)"))
        return answer
    }

    // MARK: port check

    /// A port check as the page and the API show it.
    public struct PortAnswer: Sendable, Encodable {
        public var host: String
        public var address: String
        public var port: Int
        public var state: String
        public var milliseconds: Int
        public var banner: String
    }

    /// Checks TCP `port` of `host` (an address or a name), when it is loopback or allowlisted.
    public func port(host text: String, port: Int, by actor: AuditTrail.Actor) async throws -> PortAnswer {
        do {
            return try await probe(host: text, port: port, by: actor)
        } catch let refusal as IncidentRefusal {
            await audit(.init(actor: actor, action: "tools.port", target: "port:\(text.trimmingCharacters(in: .whitespaces).lowercased().prefix(253)):\(port)",
                              after: "refused: \(refusal.reason)"))
            throw refusal
        }
    }

    private func probe(host text: String, port: Int, by actor: AuditTrail.Actor) async throws -> PortAnswer {
        let host = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard (1...65_535).contains(port) else { throw IncidentRefusal(.invalid, field: "port", "a port is a number from 1 to 65535") }
        if IPAddress(host) == nil {
            do { _ = try DomainName.validate(host) } catch { throw IncidentRefusal(.invalid, field: "host", error.description) }
        }
        let targets = try await settings().targets
        let address: IPAddress
        do {
            let resolved = try await BlockingWork.run { try PortProbe.resolve(host) }
            address = try targets.check(host: host, resolved: resolved)
        } catch let refusal as ToolTargets.Refusal {
            throw IncidentRefusal(.invalid, field: "host", refusal.description)
        } catch let failure as PortProbe.Failure {
            throw IncidentRefusal(.invalid, field: "host", failure.description)
        }
        let result: PortProbe.Result
        do {
            result = try await BlockingWork.run { try PortProbe().check(address, port: UInt16(port)) }
        } catch let failure as PortProbe.Failure {
            throw IncidentRefusal(.invalid, field: "host", "the check failed: \(failure.description)")
        }
        await audit(.init(actor: actor, action: "tools.port", target: "port:\(host):\(port)", after: "\(address): \(result.state) in \(result.milliseconds) ms"))
        return PortAnswer(host: host, address: "\(address)", port: port, state: result.state, milliseconds: result.milliseconds, banner: result.banner)
    }

    // MARK: URL analysis

    /// Analyses the text of a URL against the indicator lists and watched domains; nothing is fetched.
    public func url(_ text: String, by actor: AuditTrail.Actor) async throws -> URLAnalysis {
        let sql = try sql()
        let lists = try await IndicatorListStore(database: sql).all().map { ($0.name, $0.entries) }
        let context = URLAnalysis.Context(watchedDomains: try await ToolSettingsStore(database: sql).settings().allWatched,
                                          indicators: FileIndicators.with(lists))
        do {
            let analysis = try URLAnalysis.analyse(text, context: context)
            await audit(.init(actor: actor, action: "tools.url", target: "url:\(analysis.hostASCII.prefix(200))",
                              after: "\(analysis.verdict.rawValue): \(analysis.reasons.filter { $0.weight != .clean }.map(\.code).joined(separator: ", "))"))
            return analysis
        } catch {
            await audit(.init(actor: actor, action: "tools.url", target: "url:", after: "refused: \(error.description)"))
            throw IncidentRefusal(.invalid, field: "url", error.description)
        }
    }
}
