import { createContext, useContext, useEffect, useState } from 'react';

const TOKEN_KEY = 'changeproof.token';

/** The token from the address (`#token=…`, never sent to the server) or this tab's storage. */
export function takeToken(): string | undefined {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', `${location.pathname}#/`);
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** An API error with the server's stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/**
 * Calls the API with this tab's token as a Bearer header. Without a token no Authorization header
 * is sent, so a dashboard session (an HttpOnly cookie set by OIDC login) authenticates instead.
 */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    ...init,
    credentials: 'same-origin',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { code: string; message: string };
  };
  if (!response.ok) {
    throw new ApiError(
      response.status,
      body.error?.code ?? String(response.status),
      body.error?.message ?? response.statusText,
    );
  }
  return body as T;
}

/** Bumped on every batch of new ledger entries, so that views refetch. */
export const LedgerVersion = createContext(0);

/**
 * Opens the event stream once signed in and returns a counter that moves when the ledger does.
 * EventSource cannot send headers: a token goes in the query, a session rides on its cookie.
 */
export function useLedgerEvents(
  signedIn: boolean,
  token: string | undefined,
): { version: number; live: boolean } {
  const [version, setVersion] = useState(0);
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!signedIn) return;
    const query = token ? `?access_token=${encodeURIComponent(token)}` : '';
    const source = new EventSource(`/api/events${query}`);
    // On (re)connect, refetch: entries may have landed between the first fetch and the stream.
    source.addEventListener('hello', () => {
      setLive(true);
      setVersion((v) => v + 1);
    });
    source.addEventListener('ledger', () => setVersion((v) => v + 1));
    source.onerror = () => setLive(false);
    return () => source.close();
  }, [signedIn, token]);
  return { version, live };
}

export interface Resource<T> {
  data?: T;
  error?: ApiError;
  reload(): void;
}

/** Fetches `path`, again whenever the ledger moves or `reload` is called. */
export function useResource<T>(path: string | undefined): Resource<T> {
  const version = useContext(LedgerVersion);
  const [tick, setTick] = useState(0);
  const [state, setState] = useState<{ data?: T; error?: ApiError }>({});
  useEffect(() => {
    if (!path) return;
    let current = true;
    api<T>(path).then(
      (data) => current && setState({ data }),
      (error: ApiError) => current && setState((s) => ({ data: s.data, error })),
    );
    return () => {
      current = false;
    };
  }, [path, version, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function short(value: string | undefined, length = 12): string {
  if (!value) return '—';
  const hex = value.replace(/^sha256:/, '');
  return hex.length > length ? hex.slice(0, length) : hex;
}

export function when(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—';
}
