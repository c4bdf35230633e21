import type { ReactElement } from 'react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { sessionStore } from '../api/session.js';
import type { Role, User } from '../api/types.js';
import { AuthProvider } from '../auth/auth-context.js';

export function user(role: Role): User {
  return { id: `u-${role}`, username: `${role}-user`, role, enabled: true, last_login_at: null, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', created_by: 'test' };
}

/**
 * Renders `ui` as the console would: a query cache, a router at `path`, and (unless role is null) a
 * signed-in user of `role`.
 */
export function renderPage(ui: ReactElement, opts: { role?: Role | null; path?: string; route?: string } = {}) {
  const role = opts.role === undefined ? 'admin' : opts.role;
  if (role) sessionStore.write({ token: 'tok', expires_at: new Date(Date.now() + 3600_000).toISOString(), user: user(role) });
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity }, mutations: { retry: false } } });
  const path = opts.path ?? '/';
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <Routes>
            <Route path={opts.route ?? path.split('?')[0]} element={ui} />
            <Route path="*" element={<p>elsewhere</p>} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}
