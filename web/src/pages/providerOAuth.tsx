// OAuth2 on a provider's page: the provider's OAuth client (view, edit, remove; the client
// secret is write-only), and for credentials of kind `oauth2` their token status and the
// "Connect" button that opens the provider's sign-in page in a new tab.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Input,
  PasswordInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorNote, When } from '../components/ui';
import { fmtTime } from '../format';

type Provider = Schemas['ProviderView'];
type OAuthView = Schemas['OAuthConfigView'];
type Credential = Schemas['ProviderKeyView'];

/** Parameters the authorization flow sets itself: the API refuses them as extra parameters. */
const RESERVED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'];

interface Draft {
  authorize_url: string;
  token_url: string;
  client_id: string;
  secret: string;
  remove_secret: boolean;
  scopes: string;
  extra_params: string;
  redirect_uri: string;
  client_auth: 'basic' | 'post';
}

type Field = Exclude<keyof Draft, 'remove_secret'>;

/** This console's callback, as the admin's browser reaches it. */
export const callbackUrl = () => `${window.location.origin}/api/oauth/callback`;

function draftOf(o: OAuthView | null | undefined): Draft {
  return {
    authorize_url: o?.authorize_url ?? '',
    token_url: o?.token_url ?? '',
    client_id: o?.client_id ?? '',
    secret: '',
    remove_secret: false,
    scopes: (o?.scopes ?? []).join(' '),
    extra_params: Object.entries(o?.extra_params ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    redirect_uri: o?.redirect_uri ?? callbackUrl(),
    client_auth: o?.client_auth === 'post' ? 'post' : 'basic',
  };
}

function parseParams(text: string): { params: Record<string, string>; problem: string | null } {
  const params: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq).trim();
    if (eq <= 0 || !name) return { params, problem: `"${line}" is not name=value` };
    if (RESERVED.includes(name)) return { params, problem: `${name} is set by the flow itself` };
    if (name in params) return { params, problem: `${name} appears twice` };
    params[name] = line.slice(eq + 1).trim();
  }
  if (Object.keys(params).length > 20) return { params, problem: 'At most 20 parameters' };
  return { params, problem: null };
}

function urlProblem(v: string): string | null {
  try {
    const u = new URL(v.trim());
    return ['http:', 'https:'].includes(u.protocol) && u.host ? null : 'An http:// or https:// URL';
  } catch {
    return 'An http:// or https:// URL';
  }
}

function problemsOf(d: Draft): Record<Field, string | null> {
  const scopes = d.scopes.split(/\s+/).filter(Boolean);
  return {
    authorize_url: urlProblem(d.authorize_url),
    token_url: urlProblem(d.token_url),
    redirect_uri: urlProblem(d.redirect_uri),
    client_id: !d.client_id.trim() || d.client_id.trim().length > 512 ? '1 to 512 characters' : null,
    secret: d.secret.length > 4096 ? 'At most 4096 characters' : null,
    scopes: scopes.length > 50 ? 'At most 50 scopes' : scopes.some((s) => s.length > 256) ? 'A scope has at most 256 characters' : null,
    extra_params: parseParams(d.extra_params).problem,
    client_auth: null,
  };
}

/** The field an API validation error names (`oauth.token_url` …), to show it under its input. */
function fieldOf(e: unknown): Field | null {
  const m = /^`oauth\.(\w+)`/.exec(errorMessage(e));
  const f = m?.[1] === 'client_secret' ? 'secret' : m?.[1];
  return f && f in draftOf(null) && f !== 'remove_secret' ? (f as Field) : null;
}

function OAuthForm({
  provider,
  disabled,
  onCancel,
}: {
  provider: Provider;
  disabled: boolean;
  onCancel?: () => void;
}) {
  const queryClient = useQueryClient();
  const current = provider.oauth ?? null;
  const [d, setD] = useState<Draft>(() => draftOf(current));
  const [touched, setTouched] = useState(false);
  const problems = problemsOf(d);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((old) => ({ ...old, [k]: v }));
  const save = useMutation({
    mutationFn: () => {
      const oauth: Schemas['OAuthConfigInput'] = {
        authorize_url: d.authorize_url.trim(),
        token_url: d.token_url.trim(),
        client_id: d.client_id.trim(),
        scopes: d.scopes.split(/\s+/).filter(Boolean),
        extra_params: parseParams(d.extra_params).params,
        redirect_uri: d.redirect_uri.trim(),
        client_auth: d.client_auth,
      };
      // Left out keeps the stored secret; null removes it.
      if (d.remove_secret) oauth.client_secret = null;
      else if (d.secret.trim()) oauth.client_secret = d.secret.trim();
      return unwrap(api.PATCH('/api/providers/{id}', { params: { path: { id: provider.id } }, body: { oauth } }));
    },
    onSuccess: async () => {
      setD((old) => ({ ...old, secret: '', remove_secret: false }));
      setTouched(false);
      notifications.show({ color: 'green', message: 'OAuth client saved' });
      await queryClient.invalidateQueries({ queryKey: ['providers'] });
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.PATCH('/api/providers/{id}', { params: { path: { id: provider.id } }, body: { oauth: null } })),
    onSuccess: async () => {
      notifications.show({ color: 'green', message: 'OAuth client removed' });
      await queryClient.invalidateQueries({ queryKey: ['providers'] });
    },
  });
  const apiField = fieldOf(save.error);
  const show = (k: Field) => (touched && problems[k]) || (apiField === k ? errorMessage(save.error) : null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    save.mutate();
  };
  const stored = current?.has_client_secret ?? false;
  return (
    <form onSubmit={submit} noValidate data-testid="oauth-form">
      <fieldset disabled={disabled} style={{ border: 0, padding: 0, margin: 0 }}>
        <ErrorNote error={save.error} title="OAuth client not saved" />
        <ErrorNote error={remove.error} title="OAuth client not removed" />
        <Stack gap="sm">
          <TextInput
            label="Authorize URL"
            required
            placeholder="https://auth.example.com/oauth/authorize"
            value={d.authorize_url}
            onChange={(e) => set('authorize_url', e.currentTarget.value)}
            error={show('authorize_url')}
          />
          <TextInput
            label="Token URL"
            required
            placeholder="https://auth.example.com/oauth/token"
            value={d.token_url}
            onChange={(e) => set('token_url', e.currentTarget.value)}
            error={show('token_url')}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput
              label="Client ID"
              required
              autoComplete="off"
              value={d.client_id}
              onChange={(e) => set('client_id', e.currentTarget.value)}
              error={show('client_id')}
            />
            <PasswordInput
              label={
                <>
                  Client secret{' '}
                  <Badge size="xs" variant="light" color={stored ? 'green' : 'gray'} data-testid="oauth-secret-state">
                    {stored ? 'stored' : 'not set'}
                  </Badge>
                </>
              }
              description={
                disabled
                  ? stored
                    ? 'Write-only: never shown.'
                    : 'None: a public client.'
                  : stored
                    ? 'Write-only. Leave empty to keep the stored one.'
                    : 'Optional: none for a public client.'
              }
              autoComplete="new-password"
              disabled={d.remove_secret}
              value={d.secret}
              onChange={(e) => set('secret', e.currentTarget.value)}
              error={show('secret')}
            />
          </SimpleGrid>
          {stored && !disabled && (
            <Checkbox
              label="Remove the stored secret (a public client)"
              checked={d.remove_secret}
              onChange={(e) => set('remove_secret', e.currentTarget.checked)}
            />
          )}
          <TextInput
            label="Scopes"
            description="Separated by spaces"
            placeholder="api offline_access"
            value={d.scopes}
            onChange={(e) => set('scopes', e.currentTarget.value)}
            error={show('scopes')}
          />
          <Textarea
            label="Extra authorize parameters"
            description="One name=value per line, e.g. access_type=offline"
            autosize
            minRows={2}
            maxRows={6}
            value={d.extra_params}
            onChange={(e) => set('extra_params', e.currentTarget.value)}
            error={show('extra_params')}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <TextInput
            label="Redirect URI"
            required
            description={`Register it at the provider. This console's callback is ${callbackUrl()}`}
            value={d.redirect_uri}
            onChange={(e) => set('redirect_uri', e.currentTarget.value)}
            error={show('redirect_uri')}
          />
          <Input.Wrapper label="Client authentication at the token endpoint" error={show('client_auth')}>
            <div>
              <SegmentedControl
                mt={4}
                disabled={disabled}
                value={d.client_auth}
                onChange={(v) => set('client_auth', v === 'post' ? 'post' : 'basic')}
                data={[
                  { value: 'basic', label: 'HTTP Basic' },
                  { value: 'post', label: 'In the form body' },
                ]}
              />
            </div>
          </Input.Wrapper>
          {!disabled && (
            <Group gap="xs">
              <Button type="submit" loading={save.isPending}>
                Save OAuth client
              </Button>
              {onCancel && (
                <Button variant="default" onClick={onCancel}>
                  Cancel
                </Button>
              )}
              {current && (
                <Button
                  color="red"
                  variant="subtle"
                  loading={remove.isPending}
                  onClick={() => {
                    if (window.confirm(`Remove the OAuth client of ${provider.name}? Its OAuth2 credentials can no longer be connected or refreshed.`))
                      remove.mutate();
                  }}
                >
                  Remove OAuth client
                </Button>
              )}
            </Group>
          )}
        </Stack>
      </fieldset>
    </form>
  );
}

/** The provider's OAuth2 client, for credentials of kind OAuth2. */
export function OAuthSettings({ provider }: { provider: Provider }) {
  const { can } = useSession();
  const [adding, setAdding] = useState(false);
  const writable = can('providers:write');
  const o = provider.oauth;
  return (
    <Card withBorder data-testid="oauth-settings">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4">
          OAuth2 client
        </Title>
        <Badge variant="light" color={o ? 'blue' : 'gray'} data-testid="oauth-configured">
          {o ? 'configured' : 'not configured'}
        </Badge>
      </Group>
      <Text size="sm" c="dimmed" mb="sm">
        Lets credentials of kind OAuth2 connect a provider account (authorization code with PKCE); Tollgate keeps
        their tokens fresh.
      </Text>
      {o || adding ? (
        <OAuthForm
          // A saved or removed configuration starts the form again from what the API holds.
          key={JSON.stringify(o ?? null)}
          provider={provider}
          disabled={!writable}
          onCancel={!o ? () => setAdding(false) : undefined}
        />
      ) : (
        writable && (
          <Button variant="light" onClick={() => setAdding(true)}>
            Configure OAuth
          </Button>
        )
      )}
    </Card>
  );
}

/** Status label and colour of an OAuth2 credential. */
function statusOf(o: Schemas['OAuthStatusView']): { label: string; color: string } {
  if (o.needs_reconnect) return { label: 'Reconnect needed', color: 'red' };
  if (o.status === 'connected') return { label: 'Connected', color: 'green' };
  if (o.status === 'invalid') return { label: 'Invalid', color: 'red' };
  return { label: 'Not connected', color: 'gray' };
}

export function OAuthBadge({ c }: { c: Credential }) {
  const o = c.oauth;
  if (!o) return null;
  const s = statusOf(o);
  const badge = (
    <Badge color={s.color} variant="filled" data-testid="oauth-status" data-status={o.status}>
      {s.label}
    </Badge>
  );
  return o.reason ? (
    <Tooltip label={o.reason} multiline maw={320}>
      {badge}
    </Tooltip>
  ) : (
    badge
  );
}

/**
 * The token state of an OAuth2 credential and, for those who may, "Connect" ("Reconnect"):
 * a fresh authorize URL opened in a new tab; this card then asks every 2 s until the key is
 * connected with a new token (the list also refreshes when the console's tab gets focus back).
 */
export function OAuthConnect({ c, provider }: { c: Credential; provider: Provider }) {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const o = c.oauth;
  // The token expiry when Connect was clicked: a different one afterwards means it worked.
  const [before, setBefore] = useState<string | null | undefined>(undefined);
  const [blocked, setBlocked] = useState(false);
  const isNew = (k: Credential) => !!k.oauth?.connected && (k.oauth.expires_at ?? null) !== before;
  const connect = useMutation({
    mutationFn: () => unwrap(api.POST('/api/provider-keys/{id}/oauth/authorize', { params: { path: { id: c.id } } })),
  });
  const waiting = before !== undefined && connect.isSuccess && !isNew(c);
  useQuery({
    queryKey: ['provider-key', c.id, 'connecting', before],
    enabled: waiting,
    queryFn: async () => {
      const k = await unwrap(api.GET('/api/provider-keys/{id}', { params: { path: { id: c.id } } }));
      if (isNew(k) || k.oauth?.status !== o?.status) await queryClient.invalidateQueries({ queryKey: ['provider-keys', c.provider_id] });
      return k;
    },
    refetchInterval: () => (connect.data && Date.now() < new Date(connect.data.expires_at).getTime() ? 2000 : false),
    staleTime: 0,
  });
  if (!o) return null;
  const start = () => {
    // Opened now, in the click, so no popup blocker stops it; sent on once the URL is known.
    const tab = window.open('', '_blank');
    setBefore(o.expires_at ?? null);
    setBlocked(!tab);
    connect.mutate(undefined, {
      onSuccess: (a) => {
        if (tab && !tab.closed) {
          tab.opener = null;
          tab.location.href = a.authorize_url;
        }
      },
      onError: () => tab?.close(),
    });
  };
  const configured = !!provider.oauth;
  return (
    <Stack gap="xs" mt="sm" data-testid="oauth-credential">
      {o.status === 'connected' && !o.needs_reconnect && (
        <Text size="sm" data-testid="oauth-expiry">
          Connected; the access token {o.expires_at ? <>expires <When at={o.expires_at} /> ({fmtTime(o.expires_at)})</> : 'has no expiry'}. Tollgate
          refreshes it ahead of time.
        </Text>
      )}
      {o.status === 'pending' && (
        <Text size="sm" c="dimmed">
          Waiting for authorization: not used until it is connected to a provider account.
        </Text>
      )}
      {(o.needs_reconnect || o.status === 'invalid') && (
        <Alert color="red" title="Reconnect needed" data-testid="oauth-reason">
          {o.reason ?? 'The provider refused the refresh token.'}
        </Alert>
      )}
      <ErrorNote error={connect.error} title="Not connected" />
      {waiting && connect.data && (
        <Alert color="blue" data-testid="oauth-waiting">
          {blocked ? 'Your browser blocked the new tab. ' : "The provider's sign-in page opened in a new tab; this card updates once you have consented. "}
          <Anchor href={connect.data.authorize_url} target="_blank" rel="noopener noreferrer">
            {blocked ? "Open the provider's sign-in page" : 'Open it again'}
          </Anchor>{' '}
          (the link works until {fmtTime(connect.data.expires_at)}).
        </Alert>
      )}
      {can('provider_keys:write') && (
        <Group gap="xs">
          <Button
            size="xs"
            color={o.status === 'pending' ? 'blue' : o.needs_reconnect ? 'red' : 'gray'}
            variant={o.status === 'connected' && !o.needs_reconnect ? 'default' : 'filled'}
            disabled={!configured}
            loading={connect.isPending}
            onClick={start}
          >
            {o.status === 'pending' ? 'Connect' : 'Reconnect'}
          </Button>
          {!configured && (
            <Text size="xs" c="dimmed">
              The provider has no OAuth2 client: configure it first.
            </Text>
          )}
        </Group>
      )}
    </Stack>
  );
}
