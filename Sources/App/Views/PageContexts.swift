/// Leaf contexts, one per page. Leaf escapes every `#(value)`, so user-controlled text is safe in them.
struct LoginContext: Encodable {
    var title = "Log in"
    var csrfToken: String
    var next: String
    var username: String
    var error: String?
}

struct DashboardContext: Encodable {
    var title = "Dashboard"
    var user: LayoutUser
    var counts: [CountTile]
    var recent: [EventRow]
    var version: String
}

struct CountTile: Encodable {
    var label: String
    var value: Int
    var tone: String
}

struct ActivityContext: Encodable {
    var title = "Activity"
    var user: LayoutUser
    var events: [EventRow]
    var ip: String
    var username: String
    var action: String
    var actions: [String]
    var nextBefore: String?
}

struct PasswordContext: Encodable {
    var title = "Change password"
    var user: LayoutUser
    var error: String?
    var forced: Bool
}

struct UsersContext: Encodable {
    var title = "Users"
    var user: LayoutUser
    var users: [UserRow]
    var roles: [String]
    var notice: String?
    var error: String?
    var secret: String?
}

struct UserRow: Encodable {
    var id: String
    var username: String
    var role: String
    var locked: Bool
    var autoLocked: Bool
    var mustChangePassword: Bool
    var lastLogin: String
    var isSelf: Bool
}
