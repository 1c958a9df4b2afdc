import Incidents
import SecurityTools
import Vapor

/// API v1 for the security tools (administrators): `POST /api/v1/tools/dns` `{name, type}`,
/// `/port` `{host, port}`, `/url` `{url}`. Each use is audited, as on the page.
struct ToolsAPI {
    func register(_ routes: any RoutesBuilder) {
        let tools = routes.grouped("api", "v1", "tools")
        tools.secured(.POST, "dns", access: .role(.admin), use: dns)
        tools.secured(.POST, "port", access: .role(.admin), use: port)
        tools.secured(.POST, "url", access: .role(.admin), use: url)
    }

    struct DNSBody: Content { var name: String; var type: String }
    struct PortBody: Content { var host: String; var port: Int }
    struct URLBody: Content { var url: String }

    @Sendable func dns(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(DNSBody.self, from: request, allowed: ["name", "type"])
        return try FilesAPI.json(try await request.secmon.tools.dns(body.name, type: body.type, by: request.actor(principal)))
    }

    @Sendable func port(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(PortBody.self, from: request, allowed: ["host", "port"])
        return try FilesAPI.json(try await request.secmon.tools.port(host: body.host, port: body.port, by: request.actor(principal)))
    }

    @Sendable func url(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let body = try StrictBody.decode(URLBody.self, from: request, allowed: ["url"])
        let analysis = try await request.secmon.tools.url(body.url, by: request.actor(principal))
        return try FilesAPI.json(URLAnswer(analysis))
    }

    /// A URL analysis with its verdict.
    struct URLAnswer: Encodable {
        var analysis: URLAnalysis
        var verdict: String
        init(_ analysis: URLAnalysis) {
            self.analysis = analysis
            verdict = analysis.verdict.rawValue
        }
    }
}
