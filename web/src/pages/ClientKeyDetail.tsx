// One client key: spend so far against each limit, its 7-day trend, settings, rotation (new
// secret shown once, the old one refused at once), disable and delete.
import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Anchor, Badge, Button, Card, Group, Modal, SimpleGrid, Stack, Switch, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorNote, Loading, PageHeader, SecretOnce, UsageBar } from '../components/ui';
import { fmtCompact, fmtInt, fmtMoney, fmtTime } from '../format';
import { ClientKeyForm, keyBody, keyDraft } from './clientKeyForm';
import { useProviders } from './Providers';

export default function ClientKeyDetail() {
  const id = Number(useParams().id);
  const { can, me } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const providers = useProviders();
  const [rotated, setRotated] = useState<Schemas['CreatedClientKey'] | null>(null);
  const [confirming, { open: askRotate, close: closeRotate }] = useDisclosure(false);
  const key = useQuery({
    queryKey: ['client-keys', id],
    queryFn: () => unwrap(api.GET('/api/client-keys/{id}', { params: { path: { id } } })),
    refetchInterval: 10_000,
  });
  const trend = useQuery({
    queryKey: ['client-key-trend', id],
    queryFn: () => unwrap(api.GET('/api/client-keys/{id}/trends', { params: { path: { id }, query: { days: 7 } } })),
    enabled: can('stats:read') || can('stats:read_own'),
  });
  const invalidate = () => queryClient.invalidateQueries({ queryKey: ['client-keys'] });
  const patch = useMutation({
    mutationFn: (body: Schemas['ClientKeyInput']) =>
      unwrap(api.PATCH('/api/client-keys/{id}', { params: { path: { id } }, body })),
    onSuccess: () => void invalidate(),
    onError: (e) => notifications.show({ color: 'red', title: 'Not saved', message: errorMessage(e) }),
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST('/api/client-keys/{id}/rotate', { params: { path: { id } } })),
    onSuccess: (k) => {
      setRotated(k);
      void invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/client-keys/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      void invalidate();
      void navigate('/client-keys');
    },
  });
  if (key.isPending) return <Loading />;
  if (key.error) return <ErrorNote error={key.error} title="Client key not loaded" />;
  const k = key.data;
  const u = k.usage;
  const mine = k.owner_id === me?.id;
  const canWrite = can('client_keys:write') || (can('client_keys:write_own') && mine);
  const providerNames = k.provider_ids
    .map((id) => providers.data?.find((p) => p.id === id)?.name ?? `provider #${id}`)
    .join(', ');
  const points = (trend.data?.points ?? []).map((p) => ({
    day: p.day ?? p.start.slice(0, 10),
    Requests: p.requests,
    Errors: p.errors,
  }));
  return (
    <>
      <PageHeader
        title={k.name}
        description={
          <>
            <Anchor component={Link} to="/client-keys">
              Client keys
            </Anchor>{' '}
            / <Text span ff="monospace">{k.key_prefix}…</Text> on {providerNames}
            {u?.expired && (
              <Badge color="red" ml="xs">
                Expired
              </Badge>
            )}
          </>
        }
        actions={
          <>
            <Button component={Link} to={`/logs?client_key_id=${id}`} variant="default">
              Logs
            </Button>
            {canWrite && (
              <>
                <Button variant="light" onClick={askRotate}>
                  Rotate
                </Button>
                <Button
                  color="red"
                  variant="light"
                  loading={remove.isPending}
                  onClick={() => {
                    if (window.confirm(`Delete ${k.name}? Applications using it stop working.`)) remove.mutate();
                  }}
                >
                  Delete
                </Button>
              </>
            )}
          </>
        }
      />
      <ErrorNote error={remove.error} title="Not deleted" />
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <Stack>
          <Card withBorder>
            <Group justify="space-between" mb="sm">
              <Title order={2} size="h4">
                Usage {u ? `on ${u.day}` : ''}
              </Title>
              {canWrite && (
                <Switch label="Enabled" checked={k.enabled} onChange={(e) => patch.mutate({ enabled: e.currentTarget.checked })} />
              )}
            </Group>
            {u && (
              <Stack gap="sm" data-testid="usage-bars">
                <UsageBar label="Requests this minute" used={u.minute_requests} limit={k.rpm} display={fmtInt} />
                <UsageBar label="Requests in flight" used={u.in_flight} limit={k.max_concurrent} display={fmtInt} />
                <UsageBar label="Requests today" used={u.day_requests} limit={k.rpd} display={fmtInt} />
                <UsageBar label="Tokens today" used={u.day_tokens} limit={k.tpd} display={fmtCompact} />
                <UsageBar label="Cost today" used={Number(u.day_cost)} limit={k.cost_per_day == null ? null : Number(k.cost_per_day)} display={(n) => fmtMoney(String(n))} />
                <UsageBar label="Spent in all (budget)" used={Number(u.lifetime_spend)} limit={k.budget == null ? null : Number(k.budget)} display={(n) => fmtMoney(String(n))} />
                <Text size="sm" c="dimmed">
                  Expires: {k.expires_at ? fmtTime(k.expires_at) : 'never'} · Models:{' '}
                  {k.allowed_models?.join(', ') ?? 'all'}
                </Text>
              </Stack>
            )}
          </Card>
          <Card withBorder>
            <Title order={2} size="h4" mb="sm">
              Last 7 days
            </Title>
            {trend.isPending ? (
              <Loading />
            ) : trend.error ? (
              <ErrorNote error={trend.error} />
            ) : (
              <BarChart h={180} data={points} dataKey="day" withLegend series={[{ name: 'Requests', color: 'blue.6' }, { name: 'Errors', color: 'red.6' }]} />
            )}
          </Card>
        </Stack>
        <Card withBorder>
          <Title order={2} size="h4" mb="sm">
            Settings
          </Title>
          {canWrite ? (
            <ClientKeyForm
              key={k.updated_at}
              initial={keyDraft(k)}
              isNew={false}
              submitLabel="Save changes"
              onSubmit={async (d, withLimits) => {
                await patch.mutateAsync(keyBody(d, withLimits));
                notifications.show({ color: 'green', message: 'Client key saved' });
              }}
            />
          ) : (
            <Text size="sm" c="dimmed">
              Strategy {k.strategy}, {k.max_retries} retries, credentials {k.provider_key_ids.join(', ')}. Your role
              cannot change this key.
            </Text>
          )}
        </Card>
      </SimpleGrid>
      <Modal
        opened={confirming}
        onClose={() => {
          closeRotate();
          setRotated(null);
          rotate.reset();
        }}
        title={rotated ? 'New secret' : `Rotate ${k.name}?`}
        size="lg"
      >
        {rotated ? (
          <SecretOnce label="The new key" secret={rotated.key} />
        ) : (
          <Stack>
            <Text size="sm">
              A new secret is issued and the current one stops working at once. Applications must switch to the new
              one. Limits, pool and usage stay.
            </Text>
            <ErrorNote error={rotate.error} title="Not rotated" />
            <Group>
              <Button color="orange" loading={rotate.isPending} onClick={() => rotate.mutate()}>
                Rotate now
              </Button>
              <Button variant="default" onClick={closeRotate}>
                Cancel
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
