import ServiceLifecycle
import Vapor

/// Vapor's HTTP server as a service: listens until graceful shutdown, then stops accepting and
/// finishes the requests in progress. Last in the service group, so it stops first and the
/// pipeline behind it can drain what the last requests recorded.
struct HTTPServerService: Service {
    let app: Application

    func run() async throws {
        try await app.asyncBoot()
        try await app.server.start(address: nil)
        try? await gracefulShutdown()
        // Open WebSockets never finish on their own: close them, or the server waits for them.
        app.secmon.live.closeAll()
        await app.server.shutdown()
    }
}
