import Fluent
import SQLKit

/// Makes alerts first-class records: their group as structured JSON, the entities they are
/// about, the node that raised them; and at most one open row per rule and group, so that nodes
/// sharing a database never show one attack twice.
struct AddAlertDetails: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AlertStore.table)
            .field("group_json", .string, .required, .sql(.default("[]")))
            .update()
        try await database.schema(AlertStore.table)
            .field("entities", .string, .required, .sql(.default("[]")))
            .update()
        try await database.schema(AlertStore.table)
            .field("node", .string, .required, .sql(.default("")))
            .update()
        guard let sql = database as? any SQLDatabase else { return }
        // Rows from before this migration were written by one node that is not running now.
        try await sql.raw("UPDATE alerts SET status = 'closed' WHERE status = 'open'").run()
        try await sql.raw("CREATE UNIQUE INDEX alerts_open_episode ON alerts (rule, group_key) WHERE status = 'open'").run()
        try await sql.create(index: "alerts_rule_idx").on(AlertStore.table).column("rule").run()
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        try await sql.raw("DROP INDEX alerts_open_episode").run()
        try await sql.raw("DROP INDEX alerts_rule_idx").run()
        try await database.schema(AlertStore.table).deleteField("group_json").deleteField("entities").deleteField("node").update()
    }
}
