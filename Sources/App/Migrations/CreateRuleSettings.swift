import Fluent

/// Creates `rule_settings`: rules an administrator turned off (they still run, so correlations
/// built on them keep working, but their alerts are not raised), who did it and when.
struct CreateRuleSettings: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(RuleSwitches.table)
            .field("rule", .string, .identifier(auto: false))
            .field("enabled", .bool, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(RuleSwitches.table).delete()
    }
}
