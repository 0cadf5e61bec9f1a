import { createRootRoute, createRoute, createRouter } from '@tanstack/react-router';
import { Layout } from './components/Layout';
import { CdrPage } from './screens/CdrPage';
import { CdrsPage } from './screens/CdrsPage';
import { DashboardPage } from './screens/DashboardPage';
import { AccountPage, AccountsPage, LedgerPage, SessionPaymentPage } from './screens/PaymentsPages';
import { ReconciliationPage } from './screens/ReconciliationPage';
import { ReportsPage } from './screens/ReportsPage';
import { SessionPage } from './screens/SessionPage';
import { SessionsPage } from './screens/SessionsPage';
import { StationPage } from './screens/StationPage';
import { StationsPage } from './screens/StationsPage';
import { AssignmentsPage, TariffPage, TariffsPage } from './screens/TariffsPage';

const rootRoute = createRootRoute({ component: Layout });
const dashboard = createRoute({ getParentRoute: () => rootRoute, path: '/', component: DashboardPage });
const stations = createRoute({ getParentRoute: () => rootRoute, path: '/stations', component: StationsPage });
const station = createRoute({ getParentRoute: () => rootRoute, path: '/stations/$stationId', component: StationPage });
const sessions = createRoute({ getParentRoute: () => rootRoute, path: '/sessions', component: SessionsPage });
const session = createRoute({ getParentRoute: () => rootRoute, path: '/sessions/$sessionId', component: SessionPage });
const cdrs = createRoute({
  getParentRoute: () => rootRoute,
  path: '/cdrs',
  component: CdrsPage,
  validateSearch: (s: Record<string, unknown>): { sessionId?: string } =>
    typeof s.sessionId === 'string' ? { sessionId: s.sessionId } : {},
});
const cdr = createRoute({ getParentRoute: () => rootRoute, path: '/cdrs/$cdrId', component: CdrPage });
const tariffs = createRoute({ getParentRoute: () => rootRoute, path: '/tariffs', component: TariffsPage });
const tariff = createRoute({
  getParentRoute: () => rootRoute,
  path: '/tariffs/$tariffId',
  component: TariffPage,
  validateSearch: (s: Record<string, unknown>): { version?: number } =>
    s.version !== undefined && Number.isInteger(Number(s.version)) ? { version: Number(s.version) } : {},
});
const accounts = createRoute({ getParentRoute: () => rootRoute, path: '/accounts', component: AccountsPage });
const account = createRoute({ getParentRoute: () => rootRoute, path: '/accounts/$accountId', component: AccountPage });
const ledger = createRoute({
  getParentRoute: () => rootRoute,
  path: '/ledger',
  component: LedgerPage,
  validateSearch: (s: Record<string, unknown>): { billingAccountId?: string } =>
    typeof s.billingAccountId === 'string' ? { billingAccountId: s.billingAccountId } : {},
});
const sessionPayment = createRoute({
  getParentRoute: () => rootRoute,
  path: '/sessions/$sessionId/payment',
  component: SessionPaymentPage,
});
const reports = createRoute({ getParentRoute: () => rootRoute, path: '/reports', component: ReportsPage });
const reconciliation = createRoute({
  getParentRoute: () => rootRoute,
  path: '/reconciliation',
  component: ReconciliationPage,
});
const assignments = createRoute({ getParentRoute: () => rootRoute, path: '/assignments', component: AssignmentsPage });

const routeTree = rootRoute.addChildren([
  dashboard,
  stations,
  station,
  sessions,
  session,
  cdrs,
  cdr,
  tariffs,
  tariff,
  assignments,
  accounts,
  account,
  ledger,
  sessionPayment,
  reconciliation,
  reports,
]);

export const router = createRouter({ routeTree, defaultPreload: false });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
