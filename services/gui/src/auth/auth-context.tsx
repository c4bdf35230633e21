import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { can, type Permission } from '@vaultflow/domain';
import { authEndpoints } from '@vaultflow/schemas';
import { call, setUnauthenticatedHandler } from '../api/client.js';
import { sessionStore } from '../api/session.js';
import type { User } from '../api/types.js';

export interface Auth {
  user: User | undefined;
  /** True when the signed-in user's role has `permission` (the same rule the API applies). */
  can(permission: Permission): boolean;
  login(username: string, password: string): Promise<User>;
  logout(): Promise<void>;
  /** Set when the API ended the session (expired or revoked) rather than the user signing out. */
  expired: boolean;
}

const AuthContext = createContext<Auth | undefined>(undefined);

/** Holds the signed-in user; checks the stored session with GET /auth/me once at start. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [user, setUser] = useState<User | undefined>(() => sessionStore.read()?.user);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      setUser(undefined);
      setExpired(true);
      queryClient.clear();
    });
    if (sessionStore.read()) {
      call(authEndpoints.me).then(
        (me) => {
          sessionStore.update(me);
          setUser(me);
        },
        () => undefined, // a 401 has already signed the user out; other failures keep the session
      );
    }
  }, [queryClient]);

  const login = useCallback(async (username: string, password: string) => {
    const session = await call(authEndpoints.login, { body: { username, password } });
    sessionStore.write(session);
    queryClient.clear();
    setExpired(false);
    setUser(session.user);
    return session.user;
  }, [queryClient]);

  const logout = useCallback(async () => {
    await call(authEndpoints.logout).catch(() => undefined);
    sessionStore.clear();
    queryClient.clear();
    setExpired(false);
    setUser(undefined);
  }, [queryClient]);

  const value = useMemo<Auth>(
    () => ({ user, expired, login, logout, can: (p) => (user ? can(user.role, p) : false) }),
    [user, expired, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
