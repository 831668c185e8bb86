import { StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { DashboardSessionDocument } from '../../src/sdk/index.js';
import { describeError, redeem, saveSession, takeSignInToken, type Session, type ShownError } from './api.js';
import { useQuery } from './hooks.js';
import { href, useRoute } from './router.js';
import { loadSession, SessionProvider, useSession } from './session.js';
import { ErrorBox } from './ui.js';
import { SignIn } from './views/SignIn.js';
import { BattlesView } from './views/Battles.js';
import { BattleView } from './views/Battle.js';
import { TrainingRunsView, TrainingRunView } from './views/Training.js';
import { RegistryView } from './views/Registry.js';
import { DatasetsView } from './views/Datasets.js';
import { JobsView } from './views/Jobs.js';
import './styles.css';

const NAV = [
  ['battles', 'Battles'],
  ['training', 'Training runs'],
  ['registry', 'Model registry'],
  ['datasets', 'Datasets'],
  ['jobs', 'Jobs & workers'],
] as const;

function Shell() {
  const route = useRoute();
  const { session, signOut } = useSession();
  const info = useQuery(DashboardSessionDocument, {});
  const [section = 'battles', id] = route;
  let view;
  switch (section) {
    case 'battles':
      view = id ? <BattleView key={id} id={id} /> : <BattlesView />;
      break;
    case 'training':
      view = id ? <TrainingRunView key={id} id={id} /> : <TrainingRunsView />;
      break;
    case 'registry':
      view = <RegistryView selected={id} />;
      break;
    case 'datasets':
      view = <DatasetsView selected={id} />;
      break;
    case 'jobs':
      view = <JobsView />;
      break;
    default:
      view = <p>No such page. <a href={href('battles')}>Battles</a></p>;
  }
  const server = info.data?.serverInfo;
  return (
    <div className="app">
      <header className="top">
        <a className="brand" href={href('battles')}>
          <span className="logo">▲</span> Content Arena
        </a>
        <nav>
          {NAV.map(([key, label]) => (
            <a key={key} href={href(key)} className={section === key ? 'active' : ''} data-testid={`nav-${key}`}>
              {label}
            </a>
          ))}
        </nav>
        <div className="who">
          {server && (
            <span className="muted small" title={`${server.database} · ${server.queue}`}>
              v{server.version} · {server.mode}
            </span>
          )}
          <span data-testid="signed-in-as">{session.user.email}</span>
          <button className="link" onClick={() => void signOut()} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <main>
        <ErrorBox error={info.error} />
        {view}
      </main>
    </div>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [redeeming, setRedeeming] = useState<string | null>(takeSignInToken);
  const [linkError, setLinkError] = useState<ShownError>();

  useEffect(() => {
    if (!redeeming) return;
    redeem(redeeming).then(
      (s) => {
        saveSession(s);
        setSession(s);
        setRedeeming(null);
      },
      (e: unknown) => {
        setLinkError(describeError(e));
        setRedeeming(null);
      },
    );
  }, [redeeming]);

  const signedIn = useCallback((s: Session) => {
    saveSession(s);
    setSession(s);
    if (!window.location.hash.startsWith('#/')) window.location.hash = href('battles');
  }, []);
  const signedOut = useCallback(() => setSession(null), []);

  if (redeeming) return <p className="center muted">Signing in with your link…</p>;
  if (!session) return <SignIn onSignedIn={signedIn} linkError={linkError} />;
  return (
    <SessionProvider key={session.user.id} initial={session} onSignedOut={signedOut}>
      <Shell />
    </SessionProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
