import Fluent

/// Creates `indicator_lists`: the lists administrators keep for the rules' `expand` placeholders
/// (`%indicator_ips%`), one row per list with its entries, one per line.
struct CreateIndicatorLists: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(IndicatorListStore.table)
            .field("name", .string, .identifier(auto: false))
            .field("description", .string, .required)
            .field("entries", .string, .required)
            .field("entry_count", .int, .required)
            .field("updated_by", .string, .required)
            .field("updated_ts", .int64, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(IndicatorListStore.table).delete()
    }
}
