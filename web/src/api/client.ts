// The typed API client: openapi-fetch over the generated schema, with the access token (kept
// in memory only) on every call, one silent refresh through the HttpOnly cookie on a 401, and
// the API's error message surfaced as an ApiError.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let accessToken: string | null = null;
let onSessionLost: (() => void) | null = null;
let refreshing: Promise<Schemas['TokenResponse'] | null> | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function onSessionExpired(handler: (() => void) | null): void {
  onSessionLost = handler;
}

const raw = createClient<paths>({ baseUrl: '' });

/** Exchanges the refresh cookie for a new access token; null when there is no live session. */
export function refreshSession(): Promise<Schemas['TokenResponse'] | null> {
  refreshing ??= (async () => {
    try {
      const { data } = await raw.POST('/api/auth/refresh', { credentials: 'same-origin' });
      setAccessToken(data?.access_token ?? null);
      return data ?? null;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// A copy of each request, so a call can be repeated after a refresh (its body is spent).
const copies = new WeakMap<Request, Request>();

const auth: Middleware = {
  onRequest({ request }) {
    if (accessToken && !request.headers.has('authorization')) {
      request.headers.set('authorization', `Bearer ${accessToken}`);
    }
    copies.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const path = new URL(request.url).pathname;
    if (response.status !== 401 || path.startsWith('/api/auth/') || !accessToken) {
      return response;
    }
    // The access token ran out: refresh once through the cookie, then repeat the call.
    const session = await refreshSession();
    if (!session) {
      onSessionLost?.();
      return response;
    }
    const retry = copies.get(request) ?? request;
    retry.headers.set('authorization', `Bearer ${session.access_token}`);
    return fetch(retry);
  },
};

raw.use(auth);
export const api = raw;

function isErrorBody(v: unknown): v is Schemas['ErrorBody'] {
  return typeof v === 'object' && v !== null && 'error' in v;
}

/** The data of a successful answer, or throws an ApiError with the API's message. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  if (isErrorBody(error)) {
    throw new ApiError(response.status, error.error.code, error.error.message);
  }
  throw new ApiError(response.status, 'error', `${response.status} ${response.statusText}`);
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
