import Fluent

/// Every migration, in the order they run: the one list `configure` and `secmon migrate` use.
/// Add new ones at the end; never reorder or remove one that has shipped.
enum SecMonMigrations {
    static let all: [any Migration] = [
        CreateUsers(), CreateSessions(), CreateEvents(), CreateAlerts(), AddAlertDetails(), CreateAuditLog(), CreateIncidents(), CreateAPITokens(), CreateResponseActions(), ExtendResponse(), CreateRuleSettings(), AddAlertExplanation(), CreateBaselineState(), CreateHostTables(), CreateIndicatorLists(), CreateFileTables(), CreateToolSettings(), CreateHostScores(), CreateHostResponseSettings(), CreateThreatSettings(), CreateTailPositions(), CreateLogAnchors(), CreateIngestKeys(),
    ]
}
