import Fluent
import SQLKit

/// Creates `audit_log`: one row per action by a person or by SecMon itself. The database refuses
/// to change or delete a row (triggers on SQLite and PostgreSQL), so nothing in the product, nor a
/// mistaken query, can rewrite the trail.
struct CreateAuditLog: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AuditTrail.table)
            .field("seq", .int64, .identifier(auto: true))
            .field("ts", .int64, .required)
            .field("actor", .string, .required)
            .field("actor_kind", .string, .required)
            .field("action", .string, .required)
            .field("target", .string, .required)
            .field("before_value", .string)
            .field("after_value", .string)
            .field("source_ip", .string)
            .create()
        guard let sql = database as? any SQLDatabase else { return }
        for column in ["ts", "actor", "action"] {
            try await sql.create(index: "audit_log_\(column)_idx").on(AuditTrail.table).column(column).run()
        }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("""
                CREATE FUNCTION secmon_audit_append_only() RETURNS trigger AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only: rows cannot be changed or deleted'; END;
                $$ LANGUAGE plpgsql
                """).run()
            try await sql.raw("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION secmon_audit_append_only()").run()
            try await sql.raw("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION secmon_audit_append_only()").run()
        } else {
            for event in ["UPDATE", "DELETE"] {
                try await sql.raw("""
                    CREATE TRIGGER audit_log_no_\(unsafeRaw: event.lowercased()) BEFORE \(unsafeRaw: event) ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: rows cannot be changed or deleted'); END
                    """).run()
            }
        }
    }

    func revert(on database: any Database) async throws {
        guard let sql = database as? any SQLDatabase else { return }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("DROP TABLE audit_log").run()
            try await sql.raw("DROP FUNCTION secmon_audit_append_only()").run()
        } else {
            try await sql.raw("DROP TABLE audit_log").run()
        }
    }
}
