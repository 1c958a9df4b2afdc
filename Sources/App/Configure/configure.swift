import EventPipeline
import Fluent
import Foundation
import SecurityModel
import SQLKit
import Vapor

/// The single wiring function, used by `secmon serve`, `secmon user`, `secmon migrate` and the tests.
///
/// Opens (and migrates) the database, builds the pipeline and every long-running service (run
/// afterwards by ``SecMonRuntime/makeGroup(last:signals:)``), creates the first administrator if
/// there are no users, and registers middleware and routes. Problems a person can fix (a
/// directory that cannot be created, an unreachable database, broken rules) are thrown as
/// `StartupError`.
/// - Returns: what happened to the first administrator account (for the console banner).
@discardableResult
public func configure(_ app: Application, _ config: SecMonConfig) async throws -> String? {
    try await configureDatabase(app, config, migrate: true)
    let services = try await configureServices(app, config)
    app.secmon = services
    app.lifecycle.use(ShutdownFlush(services: services))

    let outcome = try await AdminBootstrap.run(users: services.users(on: app.db), initialPassword: config.initialAdminPassword)
    if case .created(let username, _, let generated) = outcome {
        await services.auditor.record(.init(actor: .secmon, action: "user.create", target: "user:\(username)",
                                            after: "first administrator, \(generated ? "generated" : "SECMON_ADMIN_PASSWORD") one-time password"))
    }

    try configureHTTP(app, config)
    app.middleware = Middlewares()
    app.middleware.use(SecMonMiddleware(
        authenticator: SessionAuthenticator(sessions: services.sessions, tokens: { (app.db as? any SQLDatabase).map(APITokenStore.init) },
                                            auditor: services.auditor),
        recorder: services.recorder, addresses: services.addresses,
        limiter: services.inFlight, allowedHosts: config.effectiveAllowedHosts, responses: services.runtime.responses
    ))
    app.middleware.use(StaticFilesMiddleware(publicDirectory: app.directory.publicDirectory))
    try routes(app)
    return AdminBootstrap.banner(outcome, loginURL: config.loginURL)
}

/// Flushes the activity log and event rows, and stops the hashing threads, when the application
/// shuts down (after the service group has stopped).
struct ShutdownFlush: LifecycleHandler {
    let services: SecMonServices

    func shutdownAsync(_ application: Application) async {
        await services.recorder.shutdown()
        await services.hasher.shutdown()
    }
}
