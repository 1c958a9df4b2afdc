import Vapor

extension RoutesBuilder {
    /// Registers a route guarded by `access`: the only way SecMon registers routes, so that no
    /// route exists without a policy (the role-matrix test checks this over `app.routes.all`).
    @discardableResult
    ///
    /// `body: .stream` hands the handler the body as it arrives (uploads of hundreds of MiB); such
    /// a route reads the CSRF token from the `X-CSRF-Token` header or the `csrf_token` query
    /// parameter, never from the body.
    func secured<Response: AsyncResponseEncodable>(
        _ method: HTTPMethod, _ path: PathComponent..., access: AccessPolicy, body: HTTPBodyStreamStrategy = .collect,
        use handler: @escaping @Sendable (Request) async throws -> Response
    ) -> Route {
        let streamed = if case .stream = body { true } else { false }
        let route = grouped(RouteGuard(policy: access, streamed: streamed)).on(method, path, body: body, use: handler)
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
