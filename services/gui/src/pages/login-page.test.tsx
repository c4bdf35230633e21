import { describe, expect, it } from 'vitest';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { sessionStore } from '../api/session.js';
import { apiError, fakeApi } from '../test/fake-api.js';
import { renderPage, user } from '../test/render.js';
import { LoginPage } from './login-page.js';

describe('login page', () => {
  it('asks for both fields before calling the API', async () => {
    const api = fakeApi({});
    renderPage(<LoginPage />, { role: null, path: '/login' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByText('Username is required')).toBeTruthy();
    expect(screen.getByText('Password is required')).toBeTruthy();
    expect(screen.getByLabelText('Username').getAttribute('aria-invalid')).toBe('true');
    expect(api.calls).toHaveLength(0);
  });

  it('shows a refused login with what to do, and clears the password', async () => {
    fakeApi({ 'POST /api/v1/auth/login': { status: 401, body: apiError('INVALID_CREDENTIALS', 'Wrong username or password, or the user is disabled') } });
    renderPage(<LoginPage />, { role: null, path: '/login' });
    await userEvent.type(screen.getByLabelText('Username'), 'admin');
    await userEvent.type(screen.getByLabelText('Password'), 'nope');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Wrong username or password');
    expect(alert.textContent).toContain('Check the username and password');
    expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe('');
    expect(sessionStore.read()).toBeUndefined();
  });

  it('keeps the session and goes where the user was going', async () => {
    const api = fakeApi({ 'POST /api/v1/auth/login': { body: { token: 'secret-token', expires_at: new Date(Date.now() + 3600_000).toISOString(), user: user('operator') } } });
    renderPage(<LoginPage />, { role: null, path: '/login?next=%2Fprotection-flows%3Fenabled%3Dtrue', route: '/login' });
    await userEvent.type(screen.getByLabelText('Username'), 'op');
    await userEvent.type(screen.getByLabelText('Password'), 'long-enough-password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText('elsewhere');
    expect(api.calls[0]).toMatchObject({ method: 'POST', body: { username: 'op', password: 'long-enough-password' } });
    expect(sessionStore.read()?.token).toBe('secret-token');
    await waitFor(() => expect(sessionStore.read()?.user.role).toBe('operator'));
  });
});
