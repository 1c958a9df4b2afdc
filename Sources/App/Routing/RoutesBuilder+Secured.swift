import Vapor

extension RoutesBuilder {
    /// Registers a route guarded by `access`: the only way SecMon registers routes, so that no
    /// route exists without a policy (the role-matrix test checks this over `app.routes.all`).
    @discardableResult
    func secured<Response: AsyncResponseEncodable>(
        _ method: HTTPMethod, _ path: PathComponent..., access: AccessPolicy,
        use handler: @escaping @Sendable (Request) async throws -> Response
    ) -> Route {
        let route = grouped(RouteGuard(policy: access)).on(method, path, use: handler)
        route.userInfo[AnySendableHashable(AccessPolicy.userInfoKey)] = access
        return route
    }
}

extension Route {
    /// The access policy a route was registered with, if any.
    public var accessPolicy: AccessPolicy? {
        userInfo[AnySendableHashable(AccessPolicy.userInfoKey)] as? AccessPolicy
    }
}
