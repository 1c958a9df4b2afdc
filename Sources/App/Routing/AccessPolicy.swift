import SecurityModel

/// Who may use a route. Every route is registered with one (`RoutesBuilder.secured`), and one
/// middleware, `RouteGuard`, enforces it; the role-matrix test reads the same table.
public enum AccessPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Anyone, logged in or not (the login page, health check).
    case anyone
    /// Any logged-in user, even one who still has to change the initial password (logout, password change).
    case loggedIn
    /// Logged in, password changed, and holding at least this role.
    case role(Role)

    /// Whether `principal` (nil: not logged in) may use the route.
    public func allows(_ principal: Principal?) -> Bool {
        switch self {
        case .anyone: return true
        case .loggedIn: return principal != nil
        case .role(let required):
            guard let principal, !principal.mustChangePassword else { return false }
            return principal.role.includes(required)
        }
    }

    public var description: String {
        switch self {
        case .anyone: return "anyone"
        case .loggedIn: return "logged-in"
        case .role(let role): return role.rawValue
        }
    }

    /// The key under which the policy is stored in `Route.userInfo`.
    public static let userInfoKey = "secmon.access"
}
