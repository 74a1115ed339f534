// The signed-in user: access token in memory (never in storage), refreshed before it runs out
// through the HttpOnly refresh cookie; who the user is and what they may do (`can`).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import {
  api,
  onSessionExpired,
  refreshSession,
  setAccessToken,
  unwrap,
  type Schemas,
} from '../api/client';

export type Permission = Schemas['PermissionView']['name'];
type Me = Schemas['MeView'];

type Status = 'loading' | 'signed-out' | 'signed-in';

interface Session {
  status: Status;
  me: Me | null;
  /** Why the last session ended, for the sign-in page. */
  notice: string | null;
  can: (p: Permission) => boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
  /** After a password change: the new tokens, then who we are. */
  adopt: (tokens: Schemas['TokenResponse']) => Promise<void>;
  reloadMe: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [status, setStatus] = useState<Status>('loading');
  const [me, setMe] = useState<Me | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [expiresIn, setExpiresIn] = useState<number | null>(null);

  const loadMe = useCallback(async () => {
    const who = await unwrap(api.GET('/api/auth/me'));
    setMe(who);
    setStatus('signed-in');
  }, []);

  const adopt = useCallback(
    async (tokens: Schemas['TokenResponse']) => {
      setAccessToken(tokens.access_token);
      setExpiresIn(tokens.expires_in);
      setNotice(null);
      await loadMe();
    },
    [loadMe],
  );

  const end = useCallback(
    (why: string | null) => {
      setAccessToken(null);
      setMe(null);
      setExpiresIn(null);
      setNotice(why);
      setStatus('signed-out');
      queryClient.clear();
    },
    [queryClient],
  );

  // On load: a live refresh cookie signs us in without asking. The refresh cookie itself is
  // invisible to scripts; a hint cookie beside it says whether there is one to try.
  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const hinted = document.cookie.split(';').some((c) => c.trim().startsWith('tollgate_session=1'));
      const tokens = hinted ? await refreshSession() : null;
      if (cancelled) return;
      if (tokens) {
        try {
          await adopt(tokens);
          return;
        } catch {
          // fall through to sign-in
        }
      }
      end(null);
    })();
    return () => {
      cancelled = true;
    };
  }, [adopt, end]);

  // Refresh a minute before the access token runs out.
  useEffect(() => {
    if (status !== 'signed-in' || expiresIn === null) return;
    const ms = Math.max(10, expiresIn - 60) * 1000;
    const timer = window.setTimeout(() => {
      void refreshSession().then((tokens) => {
        if (tokens) {
          setExpiresIn(tokens.expires_in);
        } else {
          end('Your session has expired. Please sign in again.');
        }
      });
    }, ms);
    return () => window.clearTimeout(timer);
  }, [status, expiresIn, end]);

  useEffect(() => {
    onSessionExpired(() => end('Your session has expired. Please sign in again.'));
    return () => onSessionExpired(null);
  }, [end]);

  const signIn = useCallback(
    async (username: string, password: string) => {
      const tokens = await unwrap(
        api.POST('/api/auth/login', {
          body: { username, password, refresh_cookie: true },
          credentials: 'same-origin',
        }),
      );
      await adopt(tokens);
    },
    [adopt],
  );

  const signOut = useCallback(async () => {
    try {
      await api.POST('/api/auth/logout', { credentials: 'same-origin' });
    } finally {
      end('You have signed out.');
      // The next user starts from the start, not on a page of the previous one.
      void navigate('/', { replace: true });
    }
  }, [end, navigate]);

  const value = useMemo<Session>(
    () => ({
      status,
      me,
      notice,
      can: (p) => me?.permissions.includes(p) ?? false,
      signIn,
      signOut,
      adopt,
      reloadMe: loadMe,
    }),
    [status, me, notice, signIn, signOut, adopt, loadMe],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
