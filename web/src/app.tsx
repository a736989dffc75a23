import { useEffect, useState } from 'react';
import type { Me } from '../../src/server/routes/read-api-types.ts';
import { LedgerVersion, saveToken, takeToken, useLedgerEvents, useResource } from './api.ts';
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

/** The single screen: navigation, live status, and the page the address names. */
export function App() {
  const [token, setToken] = useState(takeToken);
  const { version, live } = useLedgerEvents(token);
  if (!token) return <SignIn onToken={setToken} />;
  return (
    <LedgerVersion.Provider value={version}>
      <Shell live={live} onSignOut={() => setToken(undefined)} />
    </LedgerVersion.Provider>
  );
}

function Shell({ live, onSignOut }: { live: boolean; onSignOut(): void }) {
  const route = useRoute();
  const me = useResource<Me>('/api/me');
  if (!me.data) {
    return me.error ? (
      <main>
        <Failure error={me.error} />
        <button onClick={onSignOut}>Use another token</button>
      </main>
    ) : (
      <Loading />
    );
  }
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
        <span className="muted">
          {me.data.name} ({me.data.roles.join(', ')})
        </span>
      </header>
      <main>{page(route, me.data)}</main>
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
          saveToken(value.trim());
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
