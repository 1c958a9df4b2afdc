import SecurityModel

/// What every page's layout needs about the logged-in user (navigation, logout form, CSRF meta tag).
struct LayoutUser: Encodable {
    var username: String
    var role: String
    var isAnalyst: Bool
    var isAdmin: Bool
    var mustChangePassword: Bool
    var csrfToken: String

    init(_ principal: Principal) {
        username = principal.username
        role = principal.role.rawValue
        isAnalyst = principal.role.includes(.analyst)
        isAdmin = principal.role.includes(.admin)
        mustChangePassword = principal.mustChangePassword
        csrfToken = principal.csrfToken
    }
}
