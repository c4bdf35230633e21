import { useState, type FormEvent } from 'react';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/api-error.js';
import { useAuth } from '../auth/auth-context.js';
import { ErrorMessage } from '../components/feedback.js';
import { Field } from '../forms/field.js';
import { QUEUE_BOARD, safeNext } from '../routes.js';

/** Sign in with a username and password; then back to where the user was going. */
export function LoginPage() {
  const { user, login, expired } = useAuth();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const next = safeNext(params.get('next'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ username?: string; password?: string }>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const go = (to: string) => {
    // the queue board is a page of flows-api, not of this app
    if (to.startsWith(QUEUE_BOARD)) window.location.assign(to);
    else navigate(to, { replace: true });
  };
  // the queue board sends here when its cookie is missing or expired: signing in again sets a new one
  const forBoard = next.startsWith(QUEUE_BOARD);
  if (user && !busy && !forBoard) return <Navigate to={next} replace />;

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const missing = { username: username.trim() ? undefined : 'is required', password: password ? undefined : 'is required' };
    setErrors(missing);
    setError(undefined);
    if (missing.username || missing.password) return;
    setBusy(true);
    try {
      await login(username.trim(), password);
      go(next);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.status === 401) setPassword('');
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Vaultflow
        </h1>
        <p className="muted">Sign in to the backup hub.</p>
        {forBoard && !error && (
          <div className="alert alert-info" role="status">
            Sign in to open the queue board.
          </div>
        )}
        {expired && !error && (
          <div className="alert alert-info" role="status">
            Your session has ended. Sign in again to continue.
          </div>
        )}
        <Field label="Username" error={errors.username}>
          {(p) => <input {...p} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />}
        </Field>
        <Field label="Password" error={errors.password}>
          {(p) => <input {...p} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <ErrorMessage error={error} />
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
