/// What an sshd log message says about an authentication: who, from where, and how it went.
public struct SSHDMessage: Sendable, Equatable {
    public var outcome: String?
    public var user: String?
    public var sourceIP: String?
    public var sourcePort: Int64?
    public var authMethod: String?

    /// Parses the message part of an sshd line; unknown messages leave every field nil.
    public init(_ message: String) {
        let words = message.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        func after(_ word: String, from start: Int = 0) -> String? {
            guard start < words.count, let i = words[start...].firstIndex(of: word), i + 1 < words.count else { return nil }
            return words[i + 1]
        }
        func fromPort() {
            if let ip = after("from") { sourceIP = ip }
            if let port = after("port") { sourcePort = Int64(port.trimmingCharacters(in: ":")) }
        }
        // "Failed|Accepted <method> for [invalid user] <user> from <ip> port <port> ssh2"
        if (words.first == "Failed" || words.first == "Accepted"), words.count >= 4, words[2] == "for" {
            outcome = words[0] == "Accepted" ? "success" : "failure"
            authMethod = words[1]
            if words.count > 5, words[3] == "invalid", words[4] == "user" {
                user = words[5]
            } else {
                user = words[3]
            }
            fromPort()
        } else if words.first == "Invalid", words.count >= 3, words[1] == "user" {
            // "Invalid user <user> from <ip> port <port>"
            outcome = "invalid_user"
            user = words[2] == "from" ? "" : words[2]
            fromPort()
        } else if message.hasPrefix("error: maximum authentication attempts exceeded for ") {
            outcome = "max_attempts"
            let rest = words.dropFirst(6)
            user = rest.first == "invalid" ? rest.dropFirst(2).first : rest.first
            fromPort()
        } else if message.hasPrefix("Connection closed by") || message.hasPrefix("Disconnected from") || message.hasPrefix("Received disconnect from") {
            // "...by [authenticating|invalid] user <user> <ip> port <port> [preauth]" or "...from <ip> port <port>"
            outcome = "disconnect"
            if let i = words.firstIndex(of: "user"), i + 2 < words.count {
                user = words[i + 1]
                sourceIP = words[i + 2]
            } else if let i = words.firstIndex(where: { $0 == "by" || $0 == "from" }), i + 1 < words.count {
                sourceIP = words[i + 1]
            }
            if let port = after("port") { sourcePort = Int64(port.split(separator: ":").first ?? "") }
        } else if words.first == "Connection", words.count > 1, words[1] == "from" {
            outcome = "connect"
            fromPort()
        } else if message.contains("authentication failure;") {
            // pam_unix(sshd:auth): authentication failure; ... rhost=<ip>  user=<user>
            for word in words {
                if word.hasPrefix("rhost="), word.count > 6 { sourceIP = String(word.dropFirst(6)) }
                if word.hasPrefix("user="), word.count > 5 { user = String(word.dropFirst(5)) }
            }
        }
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        String(self.drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
