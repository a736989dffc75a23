import { useEffect, useState } from 'react';
import type { Me } from '../../src/server/routes/read-api-types.ts';
import {
  api,
  ApiError,
  clearToken,
  LedgerVersion,
  saveToken,
  takeToken,
  useLedgerEvents,
} from './api.ts';
import { Failure, Loading } from './components.tsx';
import { ApplicationPage } from './pages/application.tsx';
import { EvidencePage } from './pages/evidence.tsx';
import { InsightsPage } from './pages/insights.tsx';
import { MatrixPage } from './pages/matrix.tsx';
import { ProposalsPage } from './pages/proposals.tsx';

function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || '/');
  useEffect(() => {
    const update = () => setRoute(location.hash.slice(1) || '/');
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

/**
 * Who this tab is signed in as: a token from the address or the tab's storage, else the dashboard
 * session cookie of an OIDC login. `/api/me` answers for either, so it is asked first.
 */
function useSignedIn(token: string | undefined): { me?: Me; error?: ApiError } {
  const [state, setState] = useState<{ me?: Me; error?: ApiError }>({});
  useEffect(() => {
    let current = true;
    setState({});
    api<Me>('/api/me').then(
      (me) => current && setState({ me }),
      (error: ApiError) => current && setState({ error }),
    );
    return () => {
      current = false;
    };
  }, [token]);
  return state;
}

/** The single screen: navigation, live status, and the page the address names. */
export function App() {
  const [token, setToken] = useState(takeToken);
  const { me, error } = useSignedIn(token);
  const { version, live } = useLedgerEvents(me !== undefined, token);
  const signIn = (value: string) => {
    saveToken(value);
    setToken(value);
  };
  const signOut = () => {
    clearToken();
    setToken(undefined);
  };
  if (!me) {
    if (!error) return <Loading />;
    if (!token && error.status === 401) return <SignIn onToken={signIn} />;
    return (
      <main>
        <Failure error={error} />
        <button onClick={signOut}>Use another token</button>
      </main>
    );
  }
  return (
    <LedgerVersion.Provider value={version}>
      <Shell live={live} me={me} />
    </LedgerVersion.Provider>
  );
}

function Shell({ live, me }: { live: boolean; me: Me }) {
  const route = useRoute();
  return (
    <>
      <header className="no-print">
        <strong>changeproof</strong>
        <nav>
          <a href="#/">Matrix</a>
          <a href="#/proposals">Proposals</a>
          <a href="#/insights">DORA and timeline</a>
        </nav>
        <span className={live ? 'live on' : 'live off'} data-testid="live">
          {live ? 'live' : 'offline'}
        </span>
        <span className="muted" data-testid="me">
          {me.name} ({me.roles.join(', ')})
        </span>
      </header>
      <main>{page(route, me)}</main>
    </>
  );
}

function page(route: string, me: Me) {
  const app = /^\/apps\/([^/]+\/[^/]+)$/.exec(route);
  if (app) return <ApplicationPage key={app[1]} app={app[1]!} me={me} />;
  const deployment = /^\/deployments\/([^/]+\/[^/]+\/\d+)$/.exec(route);
  if (deployment) return <EvidencePage id={deployment[1]!} />;
  if (route === '/proposals') return <ProposalsPage me={me} />;
  if (route === '/insights') return <InsightsPage />;
  return <MatrixPage />;
}

function SignIn({ onToken }: { onToken(token: string): void }) {
  const [value, setValue] = useState('');
  return (
    <main>
      <h1>changeproof</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onToken(value.trim());
        }}
      >
        <label>
          Token <input value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        </label>{' '}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
