import DetectionEngine
import EventPipeline
import Foundation
import Incidents
import HostSensors
import SecurityModel
import ThreatScore

/// Everything `secmon serve` (and the tests) can configure. One value, passed to `configure(_:_:)`.
public struct SecMonConfig: Sendable {
    /// Where the database lives.
    public enum Database: Sendable, Equatable {
        /// An SQLite file (created on first use).
        case sqlite(path: String)
        /// An in-memory SQLite database (tests).
        case sqliteMemory
        /// A PostgreSQL server, by `postgres://user:pass@host:port/db` URL.
        case postgres(url: String)

        /// Whether this is SQLite (a file or in memory).
        public var isSQLite: Bool {
            if case .postgres = self { return false }
            return true
        }
    }

    /// Address to listen on.
    public var hostname = "127.0.0.1"
    /// How often the block list is read again (blocks by other nodes, expiries), in seconds.
    public var blockListRefreshSeconds = 5.0
    /// How often the indicator lists' version is read, to reload the rules after another node
    /// changed a list, in seconds (this node's own changes reload at once).
    public var indicatorCheckSeconds = 10.0
    /// Port to listen on.
    public var port = 8080
    /// Directory for the SQLite database and other state.
    public var dataDirectory = "data"
    /// The activity log (JSON lines).
    public var logPath = "logs/app.log"
    /// The database.
    public var database: Database = .sqlite(path: "data/secmon.sqlite")
    /// When lines of the activity log count as written.
    public var flushPolicy: FlushPolicy = .default
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    public var trustedProxies: [CIDRBlock] = []
    /// bcrypt cost factor (work = 2^cost). 12 takes about a quarter second per hash on a small server.
    public var bcryptCost = 12
    /// Password hashes computed at once; the rest queue (up to `passwordQueueLimit`) or are refused with 429.
    public var passwordHashThreads = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    /// Logins waiting for a hashing thread before new ones are refused with 429.
    public var passwordQueueLimit = 32
    /// Hashing slots (of `passwordHashThreads + passwordQueueLimit`) kept for clients with a valid
    /// device cookie, so a login flood never keeps out someone who logged in before from their browser.
    public var passwordReservedSlots = 8
    /// The first delay after too many failed logins (from one address, or for one user from one
    /// address), in seconds; each further failure doubles it, up to 15 minutes.
    public var loginDelaySeconds = 1
    /// The clock login throttling reads, in microseconds since 1970; nil is the system clock.
    /// Tests freeze it, so that a throttle's window holds however slowly a loaded machine serves.
    public var loginClock: (@Sendable () -> Int64)?
    /// Wrong current passwords on the password page (a stolen session guessing) that lock the
    /// account for `lockoutSeconds` (0 turns this off). Failed logins never lock an account:
    /// they are throttled per source instead.
    public var maxFailedLogins = 5
    /// How long that lock lasts, in seconds.
    public var lockoutSeconds = 900
    /// The live feed's limits (connections per user and in all, bytes a slow browser may leave unread).
    public var liveLimits = LiveFeed.Limits()
    /// Automatic responses (the rules' response policies) are recorded, with what they would have
    /// done, but nothing is done: to try policies out.
    public var responseDryRun = false
    /// A session ends after this long without a request, in seconds.
    public var sessionIdleSeconds = 1800
    /// A session ends this long after login whatever happens, in seconds.
    public var sessionMaxSeconds = 12 * 3600
    /// How long a node may trust a session it has checked without asking the database again, in seconds.
    /// Logout, lock and password changes on the same node take effect at once; on other nodes within this time.
    public var sessionCacheSeconds = 2.0
    /// Set `Secure` on cookies: `nil` decides per request (TLS or `X-Forwarded-Proto: https` from a trusted proxy).
    public var secureCookies: Bool? = nil
    /// The first administrator's password (from `SECMON_ADMIN_PASSWORD`); random when `nil`.
    public var initialAdminPassword: String? = nil
    /// A connection with nothing read or written for this long is closed, in seconds (`nil`: never).
    public var idleTimeoutSeconds: Int? = 60
    /// Most requests one client address may have in progress at once; more are answered 429.
    public var maxInFlightPerSource = 128
    /// Host names (and addresses) this server answers for, from the `Host` header; a request naming
    /// another gets 421 (DNS rebinding cannot drive a SecMon bound to loopback from a web page).
    /// Empty: when listening on a loopback address, its loopback names; otherwise any.
    public var allowedHosts: [String] = []
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 64 * 1024
    /// Rows of the `events` table written per statement, at most.
    public var eventBatchSize = 500
    /// Longest wait before pending events go to the database, in seconds.
    public var eventBatchDelay = 0.1
    /// TLS certificate chain (PEM); with `tlsKeyPath`, the server speaks HTTPS.
    public var tlsCertificatePath: String? = nil
    /// TLS private key (PEM).
    public var tlsKeyPath: String? = nil

    /// The Sigma rules run live on the server's own activity: a directory or file. `nil` means the
    /// bundled pack (found as `secmon analyze` finds it); when none is found, detection is off.
    public var rulesPath: String? = nil
    /// Whether to run detection live at all (a named `rulesPath` that is missing or broken stops
    /// startup; the default pack not being found only turns detection off, with a warning).
    public var liveDetection = true
    /// How often the live engine's clock advances without events, in seconds (quiet alerts close
    /// within this long after their window empties).
    public var detectionTickSeconds = 1.0
    /// The name this `secmon serve` gives the alerts it raises; alerts it left open are closed when
    /// it starts again. Give each node sharing a database its own.
    public var nodeName = ProcessInfo.processInfo.hostName
    /// Most groups (distinct `group-by` keys) one correlation keeps live; beyond it the least recently
    /// active are evicted, counted, and reported as a `SECMON-EVICTION` alert.
    public var maxGroupsPerCorrelation = DetectionEngine.Limits.default.maxGroupsPerCorrelation
    /// Most bytes of events waiting for detection; beyond it events are refused by detection
    /// (still logged and stored) and counted.
    public var intakeQueueBytes = 32 << 20
    /// Most bytes of alert updates waiting per sink while it is slow or failing; beyond it the
    /// oldest are dropped and counted.
    public var sinkQueueBytes = 8 << 20
    /// Most bytes of `events` rows waiting while the database is slow or failing; beyond it the
    /// oldest are dropped and counted (the activity log still has them).
    public var eventQueueBytes = 64 << 20
    /// The host sensors (system, processes, network) and how often they read; `nil` turns them
    /// off. `secmon serve` turns them on (`--host-sensors off` turns them off).
    public var hostSensors: HostMonitor.Configuration? = nil
    /// Where the host sensors' events are written, one JSON line each (`secmon analyze --format host`).
    public var hostLogPath = "logs/host.log"
    /// Seconds between scheduled file integrity checks of the watched paths (Console › Files ›
    /// Integrity); nil turns the schedule off (checks then run only when asked for). `secmon
    /// serve` checks hourly; the first check records the baseline.
    public var fileIntegrityIntervalSeconds: Double? = nil
    /// The YARA rules the file scanner runs (`*.yar`); nil is the `yara` folder of the rule pack.
    public var yaraRulesPath: String? = nil
    /// The largest file handed to YARA, which maps a file whole, in bytes.
    public var yaraMaxBytes: UInt64 = 64 << 20
    /// The optional online reputation lookup of scanned files' SHA-256 (VirusTotal); nil is off,
    /// the default (`SECMON_REPUTATION_KEY` turns it on in `secmon serve`).
    public var reputation: ReputationLookup.Settings? = nil
    /// The threat score's weights (system, processes, network, file integrity).
    public var threatWeights: ThreatWeights = .standard
    /// Seconds between threat score computations; nil computes only when the score page asks.
    /// `secmon serve` computes every minute.
    public var threatScoreIntervalSeconds: Double? = nil
    /// Paths never quarantined besides SecMon's own and the system's pseudo-file systems (exact
    /// paths, or directories ending in `/`).
    public var quarantineAllowlist: [String] = []
    /// Processes never terminated besides the bundled ones (`sshd`, `systemd`...): names or executables.
    public var processAllowlist: [String] = []
    /// How long a process has after `SIGTERM` before `SIGKILL`, in milliseconds.
    public var terminateGraceMilliseconds = 5000
    /// Hash-chain the lines of `logs/app.log` and `logs/host.log` (``LogChain``), anchored in the database.
    public var chainLogs = true
    /// How often the chains' newest links are recorded in the database, in seconds.
    public var logAnchorSeconds = 5.0
    /// A webhook told of new incidents (Slack, Mattermost, or any JSON receiver); nil: none.
    public var notifyWebhook: String? = nil
    /// The least severe incident the webhook is told of.
    public var notifyLevel: IncidentSeverity = .high
    /// The console's address as people reach it (`https://secmon.example.net`), for links in notifications.
    public var publicURL: String? = nil
    /// Where alerts are sent as RFC 5424 syslog messages (`tcp://HOST:PORT` or `udp://HOST:PORT`); nil: nowhere.
    public var syslogExport: String? = nil
    /// Log files followed as live sources (`--tail FORMAT:PATH`): access logs, sshd/auth logs, JSON lines.
    public var tailFiles: [FileTailSource.Spec] = []
    /// How often followed files are checked for new lines, in seconds.
    public var tailPollSeconds = 0.5
    /// The DNS server the DNS lookup tool asks; nil is the system's (`/etc/resolv.conf`).
    public var dnsServer: IPAddress? = nil
    /// Its port.
    public var dnsPort: UInt16 = 53
    /// The largest file the console and the API accept for scanning, in bytes.
    public var scanUploadMaxBytes = 512 << 20
    /// How long host metrics and host events are kept, in days.
    public var hostRetentionDays = 7

    public init() {}

    /// The host names requests may name: `allowedHosts`, or for a loopback listener its loopback
    /// names; `nil` when any is accepted.
    public var effectiveAllowedHosts: Set<String>? {
        if !allowedHosts.isEmpty { return Set(allowedHosts.map { $0.lowercased() }) }
        let loopback: Set<String> = ["localhost", "127.0.0.1", "::1"]
        if loopback.contains(hostname.lowercased()) || hostname.hasPrefix("127.") { return loopback.union([hostname.lowercased()]) }
        return nil
    }

    /// The URL users open to log in.
    public var loginURL: String {
        let scheme = tlsCertificatePath == nil ? "http" : "https"
        let host = hostname == "0.0.0.0" || hostname == "::" ? "127.0.0.1" : hostname
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost):\(port)/login"
    }
}
