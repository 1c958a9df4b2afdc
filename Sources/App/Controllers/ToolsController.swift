import FileInspection
import Incidents
import SecurityModel
import SecurityTools
import Vapor

/// The console's **Tools** page (administrators): DNS lookup, TCP port check (loopback and
/// allowlisted targets only) and URL analysis (text only, nothing fetched), each answered on the
/// same page, and the settings they use. Every use is audited.
struct ToolsController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "tools", access: .role(.admin), use: page)
        routes.secured(.POST, "tools", "dns", access: .role(.admin), use: dns)
        routes.secured(.POST, "tools", "port", access: .role(.admin), use: port)
        routes.secured(.POST, "tools", "url", access: .role(.admin), use: url)
        routes.secured(.POST, "tools", "settings", access: .role(.admin), use: saveSettings)
    }

    struct Row: Encodable {
        var label: String
        var value: String
    }

    struct Finding: Encodable {
        var weight: String
        var code: String
        var detail: String
    }

    struct Context: Encodable {
        var title = "Security tools"
        var user: LayoutUser
        var types: [String]
        var form: [String: String]
        var dns: SecurityToolsService.DNSAnswer?
        var port: SecurityToolsService.PortAnswer?
        var url: [Row]
        var urlVerdict: String?
        var findings: [Finding]
        var targetsText: String
        var watchedText: String
        var bundledWatched: String
        var settingsBy: String
        var notice: String?
        var error: String?
    }

    struct DNSForm: Content { var name: String?; var type: String? }
    struct PortForm: Content { var host: String?; var port: String? }
    struct URLForm: Content { var url: String? }
    struct SettingsForm: Content { var targets: String?; var watched_domains: String? }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request)
    }

    @Sendable func dns(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(DNSForm.self)
        let fields = ["name": form.name ?? "", "type": form.type ?? "A"]
        do {
            let answer = try await request.secmon.tools.dns(form.name ?? "", type: form.type ?? "A", by: request.actor(principal))
            return try await render(request, form: fields, dns: answer)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, form: fields, error: "DNS lookup: \(refusal.reason).")
        }
    }

    @Sendable func port(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(PortForm.self)
        let fields = ["host": form.host ?? "", "port": form.port ?? ""]
        do {
            guard let number = Int((form.port ?? "").trimmingCharacters(in: .whitespaces)) else {
                throw IncidentRefusal(.invalid, field: "port", "a port is a number from 1 to 65535")
            }
            let answer = try await request.secmon.tools.port(host: form.host ?? "", port: number, by: request.actor(principal))
            return try await render(request, form: fields, port: answer)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, form: fields, error: "Port check: \(refusal.reason).")
        }
    }

    @Sendable func url(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(URLForm.self)
        let fields = ["url": form.url ?? ""]
        do {
            let analysis = try await request.secmon.tools.url(form.url ?? "", by: request.actor(principal))
            return try await render(request, form: fields, url: analysis)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, form: fields, error: "URL analysis: \(refusal.reason).")
        }
    }

    @Sendable func saveSettings(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(SettingsForm.self)
        do {
            try await ToolSettingsStore(database: try request.sqlDatabase()).save(
                targets: form.targets ?? "", watchedDomains: form.watched_domains ?? "", by: request.actor(principal), on: request.db)
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, error: "Not saved: \(refusal.field): \(refusal.reason).")
        }
        return try await render(request, notice: "Saved.")
    }

    /// The rows of a URL analysis, for the page.
    static func rows(_ analysis: URLAnalysis) -> [Row] {
        var rows = [Row(label: "Scheme", value: analysis.scheme)]
        if let user = analysis.user { rows.append(Row(label: "Before @", value: user)) }
        if analysis.hostKind != .none {
            rows.append(Row(label: "Host", value: analysis.hostUnicode == analysis.hostASCII ? analysis.hostASCII : "\(analysis.hostUnicode) (\(analysis.hostASCII))"))
            let ascii = analysis.hostASCII.split(separator: ".").suffix(analysis.registrableDomain.split(separator: ".").count).joined(separator: ".")
            rows.append(Row(label: "Registrable domain", value: ascii == analysis.registrableDomain ? ascii : "\(analysis.registrableDomain) (\(ascii))"))
        }
        if let port = analysis.port { rows.append(Row(label: "Port", value: "\(port)")) }
        if !analysis.path.isEmpty { rows.append(Row(label: "Path", value: analysis.path)) }
        if !analysis.query.isEmpty { rows.append(Row(label: "Query", value: analysis.query)) }
        if !analysis.fragment.isEmpty { rows.append(Row(label: "Fragment", value: analysis.fragment)) }
        return rows
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, form: [String: String] = [:],
                        dns: SecurityToolsService.DNSAnswer? = nil, port: SecurityToolsService.PortAnswer? = nil, url: URLAnalysis? = nil,
                        notice: String? = nil, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let settings = try await request.secmon.tools.settings()
        let context = Context(
            user: LayoutUser(principal), types: SecurityToolsService.lookupTypes.map(\.name), form: form, dns: dns, port: port,
            url: url.map(Self.rows) ?? [], urlVerdict: url?.verdict.rawValue,
            findings: (url?.reasons ?? []).map { Finding(weight: $0.weight == .clean ? "note" : $0.weight.rawValue, code: $0.code, detail: $0.detail) },
            targetsText: settings.targets.text, watchedText: settings.watchedDomains.joined(separator: "\n"),
            bundledWatched: LookAlike.bundledWatched.joined(separator: ", "),
            settingsBy: settings.updatedBy.map { "changed by \($0) at \(FormValues.display(settings.updated)) UTC" } ?? "never changed",
            notice: notice, error: error)
        let response = try await request.view.render("tools", context).encodeResponse(for: request)
        response.status = status
        return response
    }
}
