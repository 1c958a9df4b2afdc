import EventPipeline
import Fluent
import SecurityModel
import Vapor

/// The long-lived parts of a running SecMon, built once by `configure` and reached from handlers
/// through `request.secmon`.
public final class SecMonServices: Sendable {
    public let config: SecMonConfig
    public let hasher: PasswordHasher
    public let sessions: SessionStore
    public let recorder: ActivityRecorder
    /// The long-running services: the pipeline, the writers, the purger.
    public let runtime: SecMonRuntime
    public let addresses: ClientAddressResolver
    /// Writes audit rows for actions outside a transaction.
    public let auditor: Auditor
    /// Signs and reads the API's pagination cursors.
    let cursors: CursorCodec
    /// The console's live feed (WebSocket clients).
    public let live: LiveFeed
    /// Rules turned off by an administrator.
    public let switches: RuleSwitches
    /// The host sensors, when they run.
    let host: HostSensorService?
    /// Login throttling and device cookies.
    let loginGuard: LoginGuard
    /// File integrity checks and the file scanner.
    public let fileIntegrity: FileIntegrityMonitor
    public let fileScans: FileScanService
    /// DNS lookup, port check and URL analysis.
    public let tools: SecurityToolsService
    /// Terminate a process, quarantine and restore a file.
    public let hostResponse: HostResponseService
    /// The host's threat score.
    public let threatScore: ThreatScoreService
    /// The log files followed live (`--tail`), if any.
    public let tails: FileTailSource?
    /// Alerts sent to a SIEM's syslog input (`--syslog-export`), if configured.
    let syslogExport: SyslogExportSink?
    /// New incidents posted to a webhook (`--notify-webhook`), if configured.
    let notifier: WebhookNotifier?
    /// Stores an event another host sent (`POST /ingest`), as followed files' lines are stored.
    let storeIngested: @Sendable (SecurityEvent) -> Void
    /// What each sending host brought since this server started.
    let ingestCounters = IngestCounters()
    /// Requests in progress per client address (refuses past `config.maxInFlightPerSource`).
    let inFlight: InFlightLimiter
    /// When this process started (for `/api/status`).
    public let startedAt = Date()

    init(config: SecMonConfig, hasher: PasswordHasher, sessions: SessionStore, recorder: ActivityRecorder, runtime: SecMonRuntime, live: LiveFeed,
         switches: RuleSwitches, host: HostSensorService? = nil, fileIntegrity: FileIntegrityMonitor, fileScans: FileScanService, tools: SecurityToolsService, hostResponse: HostResponseService, threatScore: ThreatScoreService,
         tails: FileTailSource? = nil, syslogExport: SyslogExportSink? = nil, notifier: WebhookNotifier? = nil,
         storeIngested: @escaping @Sendable (SecurityEvent) -> Void = { _ in }, auditor: Auditor, cursors: CursorCodec) {
        self.notifier = notifier
        self.storeIngested = storeIngested
        self.tails = tails
        self.syslogExport = syslogExport
        self.host = host
        self.fileIntegrity = fileIntegrity
        self.fileScans = fileScans
        self.tools = tools
        self.hostResponse = hostResponse
        self.threatScore = threatScore
        self.switches = switches
        self.live = live
        self.auditor = auditor
        self.cursors = cursors
        self.loginGuard = LoginGuard(signer: cursors, unitSeconds: config.loginDelaySeconds, clock: config.loginClock)
        self.runtime = runtime
        self.config = config
        self.hasher = hasher
        self.sessions = sessions
        self.recorder = recorder
        self.addresses = ClientAddressResolver(trustedProxies: config.trustedProxies)
        self.inFlight = InFlightLimiter(limit: config.maxInFlightPerSource)
    }

    /// Account management on `database`.
    public func users(on database: any Database) -> UserService {
        UserService(database: database, hasher: hasher)
    }
}

extension Application {
    private struct ServicesKey: StorageKey { typealias Value = SecMonServices }

    /// SecMon's services, set by `configure`.
    public var secmon: SecMonServices {
        get {
            guard let services = storage[ServicesKey.self] else {
                preconditionFailure("configure(_:_:) has not run on this Application")
            }
            return services
        }
        set { storage[ServicesKey.self] = newValue }
    }
}

extension Request {
    /// SecMon's services.
    public var secmon: SecMonServices { application.secmon }

    /// Account management on this request's database.
    var users: UserService { secmon.users(on: db) }
}
