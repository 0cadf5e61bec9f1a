import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { useAuth } from '../auth/auth';
import { ROLES, roleOfKey, type Role } from '../auth/roles';
import { ProblemView } from '../components/common';

export function LoginPage() {
  const auth = useAuth();
  const [key, setKey] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const needsRole = key.trim() !== '' && !roleOfKey(key);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await auth.login(key, role || undefined);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const field = error instanceof ApiError ? error.field : undefined;
  return (
    <main className="login" id="main">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">CSMS console</h1>
        <p className="muted">
          Sign in with an API key (<code>npm run apikey -- &lt;name&gt; &lt;role&gt;</code>, or the admin key{' '}
          <code>npm start</code> keeps in <code>~/.config/csms/local.env</code>). It is kept in this tab only (session
          storage) and sent to the services as a bearer token.
        </p>
        <label htmlFor="apiKey">API key</label>
        <input
          id="apiKey"
          name="apiKey"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          aria-invalid={field === 'apiKey' || undefined}
          aria-describedby={field === 'apiKey' ? 'login-error' : undefined}
          required
        />
        {needsRole && (
          <>
            <label htmlFor="role">Role of this key</label>
            <select id="role" value={role} onChange={(e) => setRole(e.target.value as Role)} required>
              <option value="">choose…</option>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </>
        )}
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>
          {busy ? 'Checking the key…' : 'Sign in'}
        </button>
        <div id="login-error">{error ? <ProblemView error={error} title="Not signed in" /> : null}</div>
      </form>
    </main>
  );
}
