import Fluent
import SQLKit

/// `alerts` gains `explanation`: what a baseline rule saw (the group's history, the deviation,
/// since when), shown beside the alert.
struct AddAlertExplanation: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AlertStore.table).field("explanation", .string, .required, .sql(.default(""))).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AlertStore.table).deleteField("explanation").update()
    }
}
