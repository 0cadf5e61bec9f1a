import { Link, Outlet } from '@tanstack/react-router';
import { useAuth } from '../auth/auth';
import type { Permission } from '../auth/roles';
import { LoginPage } from '../screens/LoginPage';

const NAV: Array<{ to: string; label: string; needs?: Permission }> = [
  { to: '/', label: 'Dashboard' },
  { to: '/stations', label: 'Stations', needs: 'viewStations' },
  { to: '/sessions', label: 'Sessions', needs: 'viewSessions' },
  { to: '/cdrs', label: 'CDRs', needs: 'viewCdrs' },
  { to: '/tariffs', label: 'Tariffs', needs: 'viewTariffs' },
  { to: '/assignments', label: 'Assignments', needs: 'viewTariffs' },
  { to: '/accounts', label: 'Accounts', needs: 'viewAccounts' },
  { to: '/ledger', label: 'Ledger', needs: 'viewLedger' },
  { to: '/reconciliation', label: 'Reconciliation', needs: 'reconcile' },
  { to: '/reports', label: 'Reports', needs: 'viewUtilisation' },
];

export function Layout() {
  const auth = useAuth();
  if (!auth.session) return <LoginPage />;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">CSMS console</span>
        <nav aria-label="Screens" className="nav">
          {NAV.filter((n) => !n.needs || auth.can(n.needs)).map((n) => (
            <Link
              key={n.to}
              to={n.to}
              activeOptions={{ exact: n.to === '/' }}
              activeProps={{ 'aria-current': 'page', className: 'active' }}
            >
              {n.label}
            </Link>
          ))}
        </nav>
        <div className="who">
          <span data-testid="role">
            role <strong>{auth.session.role}</strong>
          </span>
          <button type="button" onClick={auth.logout}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
