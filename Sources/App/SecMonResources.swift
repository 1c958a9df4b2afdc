import Foundation

/// Where the templates and static files are: the package's resource bundle, found next to the
/// executable whatever the current directory is.
enum SecMonResources {
    static var directory: String {
        if let override = ProcessInfo.processInfo.environment["SECMON_RESOURCES"] {
            return override.hasSuffix("/") ? override : override + "/"
        }
        return Bundle.module.bundleURL.appendingPathComponent("Resources").path + "/"
    }
}
