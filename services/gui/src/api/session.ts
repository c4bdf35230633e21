import type { LoginResponse } from '@vaultflow/schemas';

const KEY = 'vaultflow.session';

export type Session = LoginResponse;

/**
 * The login session kept in localStorage, so a reload or a second tab stays signed in until the
 * session expires. The API also sets an HttpOnly cookie at login, which only /admin/queues reads.
 */
export const sessionStore = {
  read(): Session | undefined {
    try {
      const raw = localStorage.getItem(KEY);
      if (!raw) return undefined;
      const s = JSON.parse(raw) as Session;
      if (!s.token || !s.user || Date.parse(s.expires_at) <= Date.now()) {
        localStorage.removeItem(KEY);
        return undefined;
      }
      return s;
    } catch {
      return undefined;
    }
  },
  write(s: Session): void {
    localStorage.setItem(KEY, JSON.stringify(s));
  },
  update(user: Session['user']): void {
    const s = this.read();
    if (s) this.write({ ...s, user });
  },
  clear(): void {
    localStorage.removeItem(KEY);
  },
};
