import Vapor

/// Serves the files under `Public/static/` at `/static/…`. Other paths never touch the disk.
struct StaticFilesMiddleware: Middleware {
    static let prefix = "/static/"
    let files: FileMiddleware

    init(publicDirectory: String) {
        files = FileMiddleware(publicDirectory: publicDirectory)
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard request.url.path.hasPrefix(StaticFilesMiddleware.prefix) else { return next.respond(to: request) }
        return files.respond(to: request, chainingTo: next)
    }
}
