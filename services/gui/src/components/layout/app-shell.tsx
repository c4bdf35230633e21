import { NavLink, Outlet, useNavigate } from 'react-router';
import { useAuth } from '../../auth/auth-context.js';
import { NAV, PATHS, QUEUE_BOARD } from '../../routes.js';

/** Header, navigation to every page, and the page itself. */
export function AppShell() {
  const { user, logout, can } = useAuth();
  const navigate = useNavigate();
  const signOut = async () => {
    await logout();
    navigate(PATHS.login, { replace: true });
  };
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Vaultflow
        </span>
        <div className="topbar-user">
          <span>
            Signed in as <strong>{user?.username}</strong> <span className="role-tag">{user?.role}</span>
          </span>
          <button type="button" className="btn btn-small" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {NAV.filter((n) => can(n.permission)).map((n) => (
            <li key={n.path}>
              <NavLink to={n.path} end={n.path === PATHS.dashboard}>
                {n.label}
              </NavLink>
            </li>
          ))}
          <li>
            <a href={QUEUE_BOARD}>Queues</a>
          </li>
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

/** A page title with the page's actions on the right. */
export function PageHeader({ title, children, description }: { title: string; children?: React.ReactNode; description?: React.ReactNode }) {
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}
