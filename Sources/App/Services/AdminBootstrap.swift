import Fluent
import Foundation
import Logging

/// Creates the first administrator when there are no users at all.
///
/// There is no fixed default password: the password is `SECMON_ADMIN_PASSWORD` when given,
/// otherwise random and printed once; either way it must be changed at first login.
enum AdminBootstrap {
    /// What happened, for the caller to tell the person starting the server.
    enum Outcome: Equatable {
        case existingUsers
        case created(username: String, password: String, generated: Bool)
    }

    static func run(users: UserService, initialPassword: String?) async throws -> Outcome {
        guard try await UserRecord.query(on: users.database).count() == 0 else { return .existingUsers }
        do {
            let (user, password) = try await users.create(
                username: "admin", role: .admin, password: initialPassword, mustChangePassword: true
            )
            return .created(username: user.username, password: password, generated: initialPassword == nil)
        } catch let refusal as UserService.Refusal {
            throw StartupError("SECMON_ADMIN_PASSWORD is not acceptable: \(refusal.message). Set another value or unset it to get a random one.")
        } catch {
            // Another node created the account at the same moment (unique user name): nothing to do.
            if try await UserRecord.query(on: users.database).count() > 0 { return .existingUsers }
            throw error
        }
    }

    /// The console banner for a created account.
    static func banner(_ outcome: Outcome, loginURL: String) -> String? {
        guard case let .created(username, password, generated) = outcome else { return nil }
        let shown = generated ? password : "(the value of SECMON_ADMIN_PASSWORD)"
        return """

        ================================================================
          SecMon created the first administrator account.
            user:     \(username)
            password: \(shown)
          \(generated ? "This password is shown only once. " : "")You must change it at first login:
            \(loginURL)
        ================================================================

        """
    }
}
