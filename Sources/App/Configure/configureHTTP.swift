import Foundation
import Leaf
import LeafKit
import NIOSSL
import Vapor

/// The HTTP server's address, TLS, body limit, views and static files.
func configureHTTP(_ app: Application, _ config: SecMonConfig) throws {
    app.http.server.configuration.hostname = config.hostname
    app.http.server.configuration.port = config.port
    app.http.server.configuration.serverName = nil
    // Vapor's only per-connection hook against slow clients: close connections idle this long.
    app.http.server.configuration.idleTimeout = config.idleTimeoutSeconds.map { .seconds(Int64($0)) }
    app.routes.defaultMaxBodySize = ByteCount(integerLiteral: config.maxBodyBytes)
    if let cert = config.tlsCertificatePath, let key = config.tlsKeyPath {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(cert).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            app.http.server.configuration.tlsConfiguration = .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
        } catch {
            throw StartupError("cannot load the TLS certificate '\(cert)' or key '\(key)': \(error). Give PEM files readable by this user.")
        }
    }
    let resources = SecMonResources.directory
    app.directory.viewsDirectory = resources + "Views/"
    app.directory.publicDirectory = resources + "Public/"
    app.views.use(.leaf)
    // The resource bundle lives under `.build/`, so the default "visible files only" limit must go;
    // the sandbox limit (nothing outside the views directory) stays.
    app.leaf.sources = .singleSource(NIOLeafFiles(
        fileio: app.fileio, limits: [.toSandbox, .requireExtensions],
        sandboxDirectory: app.directory.viewsDirectory, viewDirectory: app.directory.viewsDirectory
    ))
    app.leaf.cache.isEnabled = app.environment.isRelease
}

