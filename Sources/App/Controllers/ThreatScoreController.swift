import Incidents
import SecurityModel
import ThreatScore
import Vapor

/// **Host › Threat score**: the host's score from 0 to 100, its four factors with their weights,
/// every contribution with its evidence (and its alert), the top contributors, and the score over
/// the last 24 hours. Viewers read it; analysts compute it again on demand.
struct ThreatScoreController {
    func register(_ routes: any RoutesBuilder) {
        routes.secured(.GET, "host", "score", access: .role(.viewer), use: page)
        routes.secured(.POST, "host", "score", "compute", access: .role(.analyst), use: compute)
        routes.secured(.POST, "host", "score", "weights", access: .role(.admin), use: saveWeights)
    }

    struct Line: Encodable {
        var points: String
        var evidence: String
        var alertLink: String?
    }

    struct FactorRow: Encodable {
        var label: String
        var weight: String
        var points: String
        var capped: Bool
        var adds: String
        var lines: [Line]
    }

    struct Top: Encodable {
        var adds: String
        var factor: String
        var evidence: String
    }

    struct Context: Encodable {
        var title = "Threat score"
        var user: LayoutUser
        var total: String
        var level: String
        var computed: String
        var weights: String
        var factors: [FactorRow]
        var top: [Top]
        var chart: String
        var chartMin: String
        var chartMax: String
        var points: Int
        var floor: String?
        var form: [String: String]
        var weightsBy: String
        var notice: String?
        var error: String?
    }

    @Sendable func page(_ request: Request) async throws -> Response {
        try await render(request, notice: nil)
    }

    @Sendable func compute(_ request: Request) async throws -> Response {
        _ = try await request.secmon.threatScore.computeAndStore()
        return try await render(request, notice: "Computed now.")
    }

    struct WeightsForm: Content { var system: String?; var process: String?; var network: String?; var file_integrity: String? }

    /// Weights typed as percentages (25) or fractions (0.25).
    @Sendable func saveWeights(_ request: Request) async throws -> Response {
        let principal = try request.requirePrincipal()
        let form = try request.content.decode(WeightsForm.self)
        func value(_ text: String?, _ name: String) throws -> Double {
            guard let number = Double((text ?? "").trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: "")), number.isFinite else {
                throw IncidentRefusal(.invalid, field: name, "give a percentage from 0 to 100")
            }
            return number / 100
        }
        do {
            let weights = ThreatWeights(system: try value(form.system, "system"), process: try value(form.process, "process"),
                                        network: try value(form.network, "network"), fileIntegrity: try value(form.file_integrity, "file_integrity"))
            try await ThreatSettingsStore(database: try request.sqlDatabase()).save(weights, by: request.actor(principal), on: request.db)
            _ = try await request.secmon.threatScore.computeAndStore()
        } catch let refusal as IncidentRefusal {
            return try await render(request, status: refusal.httpStatus, notice: nil, error: "Not saved: \(refusal.field): \(refusal.reason).")
        }
        return try await render(request, notice: "Weights saved; the score is computed with them now.")
    }

    static func number(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(abs(tenths % 10))"
    }

    private func render(_ request: Request, status: HTTPResponseStatus = .ok, notice: String?, error: String? = nil) async throws -> Response {
        let principal = try request.requirePrincipal()
        let store = HostScoreStore(database: try request.sqlDatabase())
        var latest = try await store.latest()
        if latest == nil {
            _ = try await request.secmon.threatScore.computeAndStore()
            latest = try await store.latest()
        }
        guard let entry = latest else { throw Abort(.internalServerError, reason: "The score could not be computed.") }
        let score = entry.score
        let factors = score.factors.map { factor in
            FactorRow(label: factor.factor.label, weight: "\(Int((factor.weight * 100).rounded())) %", points: Self.number(factor.points),
                      capped: factor.points > 100, adds: Self.number(factor.weighted),
                      lines: factor.contributions.map { contribution in
                          Line(points: "+" + Self.number(contribution.points), evidence: contribution.evidence,
                               alertLink: contribution.alertID.flatMap { _ in contribution.evidence.split(separator: " ").first.map { "/alerts?rule=\($0)" } })
                      })
        }
        let top = score.topContributors(5).map { Top(adds: Self.number($0.weighted), factor: $0.factor.label, evidence: $0.contribution.evidence) }
        let history = try await store.history(since: Timestamp(microseconds: entry.time.microseconds - 86_400_000_000))
        let chart = Self.polyline(history.map { (Double($0.time.microseconds), $0.total) })
        let weights = score.factors.map { "\($0.factor.label) \(Int(($0.weight * 100).rounded())) %" }.joined(separator: ", ")
        let sql = try request.sqlDatabase()
        let saved = try await ThreatSettingsStore(database: sql).weights()
        let current = saved?.weights ?? request.secmon.threatScore.weights
        let form = ["system": Self.number(current.system * 100), "process": Self.number(current.process * 100),
                    "network": Self.number(current.network * 100), "file_integrity": Self.number(current.fileIntegrity * 100)]
        let view = try await request.view.render("host-score", Context(
            user: LayoutUser(principal), total: Self.number(score.total), level: score.level, computed: FormValues.display(entry.time),
            weights: weights, factors: factors, top: top, chart: chart, chartMin: history.first.map { FormValues.display($0.time) } ?? "",
            chartMax: history.last.map { FormValues.display($0.time) } ?? "", points: history.count,
            floor: score.floor.map { "Held at \(Self.number($0.value)) by the alert \($0.evidence): the weighted factors alone make \(Self.number(score.weighted))." },
            form: form, weightsBy: saved.map { "set by \($0.by) at \(FormValues.display($0.at)) UTC" } ?? "the configured ones",
            notice: notice, error: error))
        let response = try await view.encodeResponse(for: request)
        response.status = status
        return response
    }

    /// SVG polyline points for (time, score) pairs on a 600 × 120 chart, scores 0 to 100.
    static func polyline(_ values: [(Double, Double)]) -> String {
        guard let first = values.first?.0, let last = values.last?.0 else { return "" }
        let span = max(last - first, 1)
        return values.map { time, total in
            let x = (time - first) / span * 600
            let y = 120 - min(max(total, 0), 100) / 100 * 120
            return "\(Int(x.rounded())),\(Int(y.rounded()))"
        }.joined(separator: " ")
    }
}
