import Vapor

/// Registers every route. Each goes through `RoutesBuilder.secured`, which attaches its access policy.
public func routes(_ app: Application) throws {
    AuthController().register(app)
    AccountController().register(app)
    DashboardController().register(app)
    APIController().register(app)
    UserAdminController().register(app)
    RulesController().register(app)
    IncidentsController().register(app)
    AlertsController().register(app)
    AuditController().register(app)
    PlaybooksController().register(app)
    TokensController().register(app)
    IncidentsAPI().register(app)
    HostController().register(app)
    HostAPI().register(app)
    ReadAPI().register(app)
    ResponseController().register(app)
    ResponseAPI().register(app)
    ResponseActionsAPI().register(app)
    ResponsePoliciesController().register(app)
    LiveController().register(app)
    RulesPageController().register(app)
    IndicatorsController().register(app)
    FilesController().register(app)
    FilesAPI().register(app)
}
