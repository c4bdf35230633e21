import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './auth/auth-context.js';
import { AppShell } from './components/layout/app-shell.js';
import { BackupsPage } from './pages/backups/backups-page.js';
import { DashboardPage } from './pages/dashboard/dashboard-page.js';
import { FlowDetailsPage } from './pages/flows/flow-details-page.js';
import { FlowsPage } from './pages/flows/flows-page.js';
import { GroupsPage } from './pages/groups/groups-page.js';
import { LoginPage } from './pages/login-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { PoliciesPage } from './pages/policies/policies-page.js';
import { RepositoriesPage } from './pages/repositories/repositories-page.js';
import { SchedulesPage } from './pages/schedules/schedules-page.js';
import { SettingsPage } from './pages/settings/settings-page.js';
import { VmsPage } from './pages/vms/vms-page.js';
import { PATHS } from './routes.js';

/** Sends visitors without a session to /login, remembering where they were going. */
function RequireSession() {
  const { user } = useAuth();
  const location = useLocation();
  if (!user) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`${PATHS.login}${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <AppShell />;
}

/** Every page of the console under its stable URL. */
export function App() {
  return (
    <Routes>
      <Route path={PATHS.login} element={<LoginPage />} />
      <Route element={<RequireSession />}>
        <Route index element={<DashboardPage />} />
        <Route path={PATHS.flows} element={<FlowsPage />} />
        <Route path={`${PATHS.flows}/:id`} element={<FlowDetailsPage />} />
        <Route path={PATHS.groups} element={<GroupsPage />} />
        <Route path={PATHS.vms} element={<VmsPage />} />
        <Route path={PATHS.schedules} element={<SchedulesPage />} />
        <Route path={PATHS.repositories} element={<RepositoriesPage />} />
        <Route path={PATHS.policies} element={<PoliciesPage />} />
        <Route path={PATHS.backups} element={<BackupsPage />} />
        <Route path={PATHS.settings} element={<SettingsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
