import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { ApiError, buildUrl, rawRequest, setApiKey } from '../api/client';
import { can, roleOfKey, type Permission, type Role } from './roles';

/** Kept in session storage: gone when the tab closes, never in local storage or a cookie. */
const STORAGE = 'csms.console.session';

interface Session {
  key: string;
  role: Role;
}

interface AuthState {
  session?: Session;
  login(key: string, role?: Role): Promise<void>;
  logout(): void;
  can(permission: Permission): boolean;
}

const AuthContext = createContext<AuthState | undefined>(undefined);

function stored(): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORAGE) ?? 'null') as Session | null;
    return s && typeof s.key === 'string' && typeof s.role === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(() => {
    const s = stored();
    setApiKey(s?.key);
    return s;
  });
  const logout = useCallback(() => {
    // the key and whatever the console kept for this session (e.g. the last reconciliation run)
    for (const k of Object.keys(sessionStorage)) if (k.startsWith('csms.console.')) sessionStorage.removeItem(k);
    setApiKey(undefined);
    setSession(undefined);
  }, []);
  const login = useCallback(
    async (key: string, chosen?: Role) => {
      const k = key.trim();
      const role = roleOfKey(k) ?? chosen;
      if (!role)
        throw new ApiError({
          status: 400,
          code: 'ROLE_UNKNOWN',
          field: 'role',
          detail: 'this key does not say its role (csms_<role>_…): choose the role it was made for',
        });
      // any valid key may list sessions or tariffs (every role but none); 401 = the key is not valid
      await rawRequest(
        'GET',
        buildUrl('tariffs', '/api/v1/tariffs', { query: { limit: 1 } }),
        undefined,
        undefined,
        k,
      ).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401)
          throw new ApiError({ ...e.problem, field: 'apiKey', detail: 'the services do not know this API key' });
        if (e instanceof ApiError && e.status === 403) return; // valid, another role
        throw e;
      });
      const s = { key: k, role };
      sessionStorage.setItem(STORAGE, JSON.stringify(s));
      setApiKey(k, logout);
      setSession(s);
    },
    [logout],
  );
  if (session) setApiKey(session.key, logout);
  const value = useMemo<AuthState>(
    () => ({ session, login, logout, can: (p) => can(session?.role, p) }),
    [session, login, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
