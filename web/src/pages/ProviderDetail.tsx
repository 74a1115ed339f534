// One provider: its settings, its OAuth2 client, and its pool of credentials with their state,
// health, last error, 7-day trend and an on-demand health check; OAuth2 credentials with their
// token status and a "Connect" button.
import { Sparkline } from '@mantine/charts';
import '@mantine/charts/styles.css';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  PasswordInput,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, HealthBadge, Loading, PageHeader, When } from '../components/ui';
import { fmtInt, fmtMs, fmtPct, fmtTime } from '../format';
import { OAuthBadge, OAuthConnect, OAuthSettings } from './providerOAuth';
import { ProviderForm, draftOf } from './Providers';

type Credential = Schemas['ProviderKeyView'];
type Provider = Schemas['ProviderView'];

function Trend({ id }: { id: number }) {
  const trend = useQuery({
    queryKey: ['provider-key-trend', id],
    queryFn: () => unwrap(api.GET('/api/provider-keys/{id}/trends', { params: { path: { id }, query: { days: 7 } } })),
  });
  if (trend.isPending) return <Text size="xs" c="dimmed">Loading trend…</Text>;
  if (trend.error) return <Text size="xs" c="red">{errorMessage(trend.error)}</Text>;
  const pts = trend.data.points;
  const total = pts.reduce((n, p) => n + p.requests, 0);
  const errors = pts.reduce((n, p) => n + p.errors, 0);
  const latencies = pts.map((p) => p.latency_avg_ms ?? 0);
  return (
    <Stack gap={4} data-testid="credential-trend">
      <Text size="xs" c="dimmed">
        Last 7 days: {fmtInt(total)} requests, {fmtInt(errors)} errors
      </Text>
      <SimpleGrid cols={3} spacing="xs">
        <div>
          <Text size="xs">Requests</Text>
          <Sparkline h={32} data={pts.map((p) => p.requests)} color="blue" fillOpacity={0.3} aria-label="Requests per day" />
        </div>
        <div>
          <Text size="xs">Errors</Text>
          <Sparkline h={32} data={pts.map((p) => p.errors)} color="red" fillOpacity={0.3} aria-label="Errors per day" />
        </div>
        <div>
          <Text size="xs">Latency</Text>
          <Sparkline h={32} data={latencies} color="orange" fillOpacity={0.3} aria-label="Average latency per day" />
        </div>
      </SimpleGrid>
    </Stack>
  );
}

function CredentialCard({ c, provider }: { c: Credential; provider: Provider }) {
  const providerId = provider.id;
  const { can } = useSession();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['provider-keys', providerId] });
  const [weight, setWeight] = useState<number>(c.weight);
  const patch = useMutation({
    mutationFn: (body: Schemas['UpdateProviderKey']) =>
      unwrap(api.PATCH('/api/provider-keys/{id}', { params: { path: { id: c.id } }, body })),
    onSuccess: () => void refresh(),
    onError: (e) => notifications.show({ color: 'red', title: 'Not saved', message: errorMessage(e) }),
  });
  const check = useMutation({
    mutationFn: () => unwrap(api.POST('/api/provider-keys/{id}/health-check', { params: { path: { id: c.id } } })),
    onSuccess: () => void refresh(),
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/provider-keys/{id}', { params: { path: { id: c.id } } })),
    onSuccess: () => void refresh(),
    onError: (e) => notifications.show({ color: 'red', title: 'Not deleted', message: errorMessage(e) }),
  });
  const h = c.health;
  const lastError = h.reason ?? h.last_check?.error ?? null;
  const result = check.data;
  return (
    <Card withBorder padding="md" data-testid="credential" data-name={c.name} data-id={c.id}>
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <div>
          <Text fw={600}>{c.name}</Text>
          {c.kind === 'oauth2' ? (
            <Text size="sm" c="dimmed">
              OAuth2 account
            </Text>
          ) : (
            <Text size="sm" c="dimmed" ff="monospace">
              {c.secret_preview}
            </Text>
          )}
        </div>
        <Group gap="xs">
          <OAuthBadge c={c} />
          {/* A credential never connected has not been used: its health says nothing yet. */}
          {c.oauth?.status !== 'pending' && <HealthBadge state={h.state} reason={h.reason} until={h.next_retry_at} />}
        </Group>
      </Group>
      <OAuthConnect c={c} provider={provider} />
      {h.state === 'invalid' && (
        <Alert color="red" mt="sm" title="Invalid credential" data-testid="invalid-reason">
          {h.reason ?? 'The provider refused this credential.'}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 2, sm: 4 }} mt="sm" spacing="xs">
        <div>
          <Text size="xs" c="dimmed">Error rate</Text>
          <Text size="sm">{fmtPct(h.error_rate)}</Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">Latency</Text>
          <Text size="sm">{fmtMs(h.latency_ms)}</Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">In flight / failures in a row</Text>
          <Text size="sm">
            {h.in_flight} / {h.consecutive_failures}
          </Text>
        </div>
        <div>
          <Text size="xs" c="dimmed">Last check</Text>
          <Text size="sm">
            {h.last_check ? (
              <>
                {h.last_check.ok ? 'OK' : 'Failed'} <When at={h.last_check.checked_at} />
              </>
            ) : (
              'never'
            )}
          </Text>
        </div>
      </SimpleGrid>
      {lastError && h.state !== 'invalid' && (
        <Text size="sm" c="orange" mt="xs">
          Last error: {lastError}
        </Text>
      )}
      <Stack mt="sm" gap="xs">
        <Trend id={c.id} />
      </Stack>
      {result && (
        <Alert mt="sm" color={result.ok ? 'green' : 'red'} title={result.ok ? 'Check passed' : 'Check failed'} data-testid="check-result">
          {result.status != null && `HTTP ${result.status}, `}
          {fmtMs(result.latency_ms)} at {fmtTime(result.checked_at)}
          {result.error && ` — ${result.error}`}
        </Alert>
      )}
      <ErrorNote error={check.error} title="Check not run" />
      <Group mt="sm" gap="xs" wrap="wrap">
        {can('provider_keys:check') && c.oauth?.status !== 'pending' && (
          <Button size="xs" variant="light" loading={check.isPending} onClick={() => check.mutate()}>
            Check now
          </Button>
        )}
        {can('provider_keys:write') && (
          <>
            <Switch
              label="Enabled"
              checked={c.enabled}
              onChange={(e) => patch.mutate({ enabled: e.currentTarget.checked })}
            />
            <NumberInput
              aria-label={`Weight of ${c.name}`}
              size="xs"
              w={90}
              min={0}
              max={1000}
              value={weight}
              onChange={(v) => setWeight(Number(v))}
            />
            <Button
              size="xs"
              variant="default"
              disabled={weight === c.weight || !Number.isInteger(weight) || weight < 0 || weight > 1000}
              onClick={() => patch.mutate({ weight })}
            >
              Save weight
            </Button>
            <Button
              size="xs"
              color="red"
              variant="subtle"
              loading={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete the credential ${c.name}? Client keys stop using it.`)) remove.mutate();
              }}
            >
              Delete
            </Button>
          </>
        )}
        {!can('provider_keys:write') && <Badge variant="outline">weight {c.weight}</Badge>}
      </Group>
    </Card>
  );
}

function AddCredential({ provider, onDone }: { provider: Provider; onDone: () => void }) {
  const providerId = provider.id;
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<'api_key' | 'oauth2'>('api_key');
  const [name, setName] = useState('');
  const [secret, setSecret] = useState('');
  const [weight, setWeight] = useState<number>(1);
  const [enabled, setEnabled] = useState(true);
  const [touched, setTouched] = useState(false);
  const { can } = useSession();
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/provider-keys', {
          body:
            kind === 'oauth2'
              ? { provider_id: providerId, kind, name: name.trim(), weight, enabled }
              : { provider_id: providerId, name: name.trim(), secret: secret.trim(), weight, enabled },
        }),
      ),
    onSuccess: (k) => {
      void queryClient.invalidateQueries({ queryKey: ['provider-keys', providerId] });
      notifications.show({
        color: 'green',
        message: k.kind === 'oauth2' ? `Credential ${k.name} added: connect it to an account` : `Credential ${k.name} added (${k.secret_preview})`,
      });
      onDone();
    },
  });
  const problems = {
    name: !name.trim() || name.length > 128 ? '1 to 128 characters' : null,
    secret: kind === 'api_key' && !secret.trim() ? 'Paste the provider credential' : null,
    weight: !Number.isInteger(weight) || weight < 0 || weight > 1000 ? '0 to 1000' : null,
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        <ErrorNote error={create.error} title="Not added" />
        {provider.oauth ? (
          <div>
            <Text size="sm" fw={500} mb={4} id="credential-kind">
              Kind
            </Text>
            <SegmentedControl
              aria-labelledby="credential-kind"
              fullWidth
              value={kind}
              onChange={(v) => setKind(v === 'oauth2' ? 'oauth2' : 'api_key')}
              data={[
                { value: 'api_key', label: 'API key' },
                { value: 'oauth2', label: 'OAuth2 account' },
              ]}
            />
          </div>
        ) : (
          can('providers:write') && (
            <Text size="xs" c="dimmed">
              To add an OAuth2 account instead of an API key, configure the provider&apos;s OAuth2 client first.
            </Text>
          )
        )}
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={touched && problems.name} />
        {kind === 'api_key' ? (
          <PasswordInput
            label="Secret"
            description="Write-only: after saving, only a masked preview is shown."
            required
            autoComplete="off"
            value={secret}
            onChange={(e) => setSecret(e.currentTarget.value)}
            error={touched && problems.secret}
          />
        ) : (
          <Alert color="blue" variant="light" data-testid="oauth2-kind-note">
            No secret: after adding it, press <b>Connect</b> on the credential to sign in at the provider and consent.
            Tollgate then keeps its tokens and refreshes them.
          </Alert>
        )}
        <NumberInput label="Weight" description="Share of traffic with the weighted strategy" min={0} max={1000} value={weight} onChange={(v) => setWeight(Number(v))} error={touched && problems.weight} />
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <Button type="submit" loading={create.isPending}>
          Add credential
        </Button>
      </Stack>
    </form>
  );
}

/** The provider's model list as last fetched, with a refresh now. */
function ModelList({ providerId }: { providerId: number }) {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const [search, setSearch] = useState('');
  const models = useQuery({
    queryKey: ['provider-models', providerId],
    queryFn: () => unwrap(api.GET('/api/providers/{id}/models', { params: { path: { id: providerId } } })),
  });
  const refresh = useMutation({
    mutationFn: () => unwrap(api.POST('/api/providers/{id}/models/refresh', { params: { path: { id: providerId } } })),
    onSuccess: (v) => queryClient.setQueryData(['provider-models', providerId], v),
    onError: (e) => notifications.show({ color: 'red', title: 'Not refreshed', message: errorMessage(e) }),
  });
  const data = models.data;
  const shown = (data?.models ?? []).filter((m) => m.toLowerCase().includes(search.toLowerCase()));
  return (
    <Card withBorder mt="lg" data-testid="provider-models">
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={2} size="h4">
            Models
          </Title>
          <Text size="xs" c="dimmed">
            {data?.fetched_at ? <>Fetched <When at={data.fetched_at} /></> : 'Not fetched yet'}
          </Text>
        </div>
        {can('providers:write') && (
          <Button size="sm" variant="light" loading={refresh.isPending} onClick={() => refresh.mutate()}>
            Refresh list
          </Button>
        )}
      </Group>
      <ErrorNote error={models.error} />
      {data?.last_error && (
        <Alert color="yellow" mb="sm" title="Last fetch failed">
          {data.last_error}
        </Alert>
      )}
      {(data?.models.length ?? 0) > 0 ? (
        <>
          <TextInput placeholder="Search models" value={search} onChange={(e) => setSearch(e.currentTarget.value)} mb="xs" maw={320} />
          <Group gap={6}>
            {shown.map((m) => (
              <Badge key={m} variant="light" color="gray" tt="none" ff="monospace">
                {m}
              </Badge>
            ))}
          </Group>
        </>
      ) : (
        !models.isPending && <Text c="dimmed" size="sm">No models listed.</Text>
      )}
    </Card>
  );
}

export default function ProviderDetail() {
  const id = Number(useParams().id);
  const { can } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [adding, { open, close }] = useDisclosure(false);
  const provider = useQuery({
    queryKey: ['providers', id],
    queryFn: () => unwrap(api.GET('/api/providers/{id}', { params: { path: { id } } })),
  });
  const keys = useQuery({
    queryKey: ['provider-keys', id],
    queryFn: () => unwrap(api.GET('/api/provider-keys', { params: { query: { provider_id: id } } })),
    enabled: can('provider_keys:read'),
    refetchInterval: 15_000,
    // Back from the provider's sign-in tab: an OAuth2 credential may have just connected.
    refetchOnWindowFocus: true,
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/providers/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['providers'] });
      void navigate('/providers');
    },
  });
  if (provider.isPending) return <Loading />;
  if (provider.error) return <ErrorNote error={provider.error} title="Provider not loaded" />;
  const p = provider.data;
  return (
    <>
      <PageHeader
        title={p.name}
        description={
          <>
            <Anchor component={Link} to="/providers">
              Providers
            </Anchor>{' '}
            / {p.api_format} provider
          </>
        }
        actions={
          can('providers:write') && (
            <Button
              color="red"
              variant="light"
              loading={remove.isPending}
              onClick={() => {
                if (window.confirm(`Delete ${p.name} with its credentials and client keys?`)) remove.mutate();
              }}
            >
              Delete provider
            </Button>
          )
        }
      />
      <ErrorNote error={remove.error} title="Not deleted" />
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <Stack gap="lg">
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Settings
            </Title>
            <ProviderForm
              key={p.updated_at}
              initial={draftOf(p)}
              isNew={false}
              disabled={!can('providers:write')}
              submitLabel="Save changes"
              onSubmit={async (d) => {
                await unwrap(
                  api.PATCH('/api/providers/{id}', {
                    params: { path: { id } },
                    body: {
                      name: d.name,
                      base_url: d.base_url,
                      auth_scheme: d.auth_scheme,
                      connect_timeout_ms: d.connect_timeout_ms,
                      first_byte_timeout_ms: d.first_byte_timeout_ms,
                      health_check_path: d.health_check_path || null,
                      enabled: d.enabled,
                    },
                  }),
                );
                notifications.show({ color: 'green', message: 'Provider saved' });
                await queryClient.invalidateQueries({ queryKey: ['providers'] });
              }}
            />
          </Card>
          <OAuthSettings provider={p} />
        </Stack>
        <div>
          <Group justify="space-between" mb="sm">
            <Title order={2} size="h4">
              Credential pool
            </Title>
            {can('provider_keys:write') && (
              <Button size="sm" onClick={open}>
                Add credential
              </Button>
            )}
          </Group>
          {!can('provider_keys:read') ? (
            <Text c="dimmed">Your role does not show credentials.</Text>
          ) : keys.isPending ? (
            <Loading />
          ) : keys.error ? (
            <ErrorNote error={keys.error} />
          ) : keys.data.length === 0 ? (
            <Card withBorder>
              <Empty title="No credentials">Add the provider&apos;s API key so client keys can use it.</Empty>
            </Card>
          ) : (
            <Stack>
              {keys.data.map((c) => (
                <CredentialCard key={c.id} c={c} provider={p} />
              ))}
            </Stack>
          )}
        </div>
      </SimpleGrid>
      <ModelList providerId={id} />
      <Modal opened={adding} onClose={close} title={`Add a credential to ${p.name}`}>
        <AddCredential provider={p} onDone={close} />
      </Modal>
    </>
  );
}
