import { useState, type FormEvent } from 'react';
import { describeError, login, type Session, type ShownError } from '../api.js';
import { ErrorBox } from '../ui.js';

export function SignIn({ onSignedIn, linkError }: { onSignedIn: (s: Session) => void; linkError: ShownError | undefined }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError | undefined>(linkError);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await login(email, password));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={(e) => void submit(e)} data-testid="signin-form">
        <h1>
          <span className="logo">▲</span> Content Arena
        </h1>
        <p className="muted">Sign in to watch battles, training runs and the model registry live.</p>
        <label>
          Email
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} name="email" />
        </label>
        <label>
          Password
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} name="password" />
        </label>
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">
          First start? Open the one-time link the server printed (<code>/#signin=…</code>), then set a password with <code>updateUser</code> in{' '}
          <a href="/graphiql">GraphiQL</a>.
        </p>
      </form>
    </div>
  );
}
