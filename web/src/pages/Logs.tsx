// The request log, newest first, in keyset pages ("Load older"), filtered by time, client key,
// provider, credential, model, status (exact or class), partial and error kind. The filters
// live in the address, so a filtered view can be bookmarked or shared.
import { Anchor, Badge, Button, Card, Group, NumberInput, Select, SimpleGrid, Table, Text, TextInput } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../api/client';
import type { paths } from '../api/schema';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { fmtInt, fmtMoney, fmtMs, fmtTime, isoToLocal, localToIso } from '../format';
import { useProviders } from './Providers';

const PAGE = 50;
const FILTERS = ['from', 'to', 'client_key_id', 'provider_id', 'provider_key_id', 'model', 'status', 'status_class', 'partial', 'error_kind'] as const;
type Filter = (typeof FILTERS)[number];
type LogQuery = NonNullable<paths['/api/logs']['get']['parameters']['query']>;

export function StatusBadge({ status }: { status: number }) {
  const color = status >= 500 ? 'red' : status >= 400 ? 'orange' : status >= 200 && status < 300 ? 'green' : 'gray';
  return (
    <Badge color={color} variant="light">
      {status}
    </Badge>
  );
}

function toQuery(params: URLSearchParams): LogQuery {
  const q: Record<string, string | number | boolean> = {};
  for (const f of FILTERS) {
    const v = params.get(f);
    if (!v) continue;
    if (['client_key_id', 'provider_id', 'provider_key_id', 'status', 'status_class'].includes(f)) {
      const n = Number(v);
      if (Number.isInteger(n)) q[f] = n;
    } else if (f === 'partial') {
      q[f] = v === 'true';
    } else {
      q[f] = v;
    }
  }
  return q as LogQuery;
}

export default function Logs() {
  const { can } = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const query = toQuery(params);
  const providers = useProviders();
  const keys = useQuery({
    queryKey: ['client-keys'],
    queryFn: () => unwrap(api.GET('/api/client-keys')),
    enabled: can('client_keys:read') || can('client_keys:read_own'),
  });
  const logs = useInfiniteQuery({
    queryKey: ['logs', query],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/api/logs', {
          params: { query: { ...query, limit: PAGE, ...(pageParam ? { before: pageParam } : {}) } },
        }),
      ),
    initialPageParam: 0,
    getNextPageParam: (last: Schemas['LogList']) => last.next ?? undefined,
  });
  const set = (f: Filter, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(f, v);
    else next.delete(f);
    setParams(next, { replace: true });
  };
  const keyName = (id: number | null | undefined) =>
    id == null ? '—' : (keys.data?.find((k) => k.id === id)?.name ?? `#${id}`);
  const providerName = (id: number | null | undefined) =>
    id == null ? '—' : (providers.data?.find((p) => p.id === id)?.name ?? `#${id}`);
  const rows = logs.data?.pages.flatMap((p) => p.items) ?? [];
  const active = FILTERS.some((f) => params.get(f));
  return (
    <>
      <PageHeader title="Logs" description="One row per proxied request, newest first." />
      <Card withBorder mb="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 1, xs: 2, md: 5 }} spacing="sm">
          <TextInput type="datetime-local" label="From" value={isoToLocal(params.get('from'))} onChange={(e) => set('from', localToIso(e.currentTarget.value))} />
          <TextInput type="datetime-local" label="To" value={isoToLocal(params.get('to'))} onChange={(e) => set('to', localToIso(e.currentTarget.value))} />
          <Select
            label="Client key"
            clearable
            searchable
            data={(keys.data ?? []).map((k) => ({ value: String(k.id), label: k.name }))}
            value={params.get('client_key_id')}
            onChange={(v) => set('client_key_id', v)}
          />
          <Select
            label="Provider"
            clearable
            data={(providers.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))}
            value={params.get('provider_id')}
            onChange={(v) => set('provider_id', v)}
          />
          <NumberInput
            label="Credential id"
            min={1}
            allowDecimal={false}
            value={params.get('provider_key_id') ?? ''}
            onChange={(v) => set('provider_key_id', v === '' ? null : String(v))}
          />
          <TextInput label="Model" value={params.get('model') ?? ''} onChange={(e) => set('model', e.currentTarget.value.trim() || null)} />
          <NumberInput
            label="Status"
            min={100}
            max={599}
            allowDecimal={false}
            value={params.get('status') ?? ''}
            onChange={(v) => set('status', v === '' ? null : String(v))}
          />
          <Select
            label="Status class"
            clearable
            data={[
              { value: '2', label: '2xx success' },
              { value: '4', label: '4xx refused' },
              { value: '5', label: '5xx failed' },
            ]}
            value={params.get('status_class')}
            onChange={(v) => set('status_class', v)}
          />
          <Select
            label="Partial"
            clearable
            data={[
              { value: 'true', label: 'Cut short' },
              { value: 'false', label: 'Complete' },
            ]}
            value={params.get('partial')}
            onChange={(v) => set('partial', v)}
          />
          <TextInput label="Error kind" value={params.get('error_kind') ?? ''} onChange={(e) => set('error_kind', e.currentTarget.value.trim() || null)} />
        </SimpleGrid>
        {active && (
          <Group mt="sm">
            <Button variant="subtle" size="xs" onClick={() => setParams(new URLSearchParams())}>
              Clear filters
            </Button>
          </Group>
        )}
      </Card>
      <ErrorNote error={logs.error} />
      {logs.isPending ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty title={active ? 'No request matches' : 'No requests yet'}>
          {active ? 'Change or clear the filters.' : 'Requests through the proxy appear here within seconds.'}
        </Empty>
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={860}>
            <Table highlightOnHover verticalSpacing="xs" data-testid="logs-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Client key</Table.Th>
                  <Table.Th>Provider</Table.Th>
                  <Table.Th ta="right">Tokens in / out</Table.Th>
                  <Table.Th ta="right">Cost</Table.Th>
                  <Table.Th ta="right">Latency</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((r) => (
                  <Table.Tr
                    key={r.id}
                    style={{ cursor: 'pointer' }}
                    onClick={() => void navigate(`/logs/${r.id}`)}
                    data-testid="log-row"
                  >
                    <Table.Td>
                      <Anchor component={Link} to={`/logs/${r.id}`} size="sm" onClick={(e) => e.stopPropagation()}>
                        {fmtTime(r.created_at)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <StatusBadge status={r.status} />
                        {r.partial && <Badge color="yellow" variant="outline">partial</Badge>}
                      </Group>
                    </Table.Td>
                    <Table.Td>{r.model ?? '—'}</Table.Td>
                    <Table.Td>{keyName(r.client_key_id)}</Table.Td>
                    <Table.Td>{providerName(r.provider_id)}</Table.Td>
                    <Table.Td ta="right" data-testid="log-tokens">
                      {fmtInt(r.prompt_tokens)} / {fmtInt(r.completion_tokens)}
                    </Table.Td>
                    <Table.Td ta="right" data-testid="log-cost">
                      {r.priced ? fmtMoney(r.cost) : <Text span c="orange" size="sm">unpriced</Text>}
                    </Table.Td>
                    <Table.Td ta="right">{fmtMs(r.latency_ms)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      {logs.hasNextPage && (
        <Group justify="center" mt="md">
          <Button variant="default" loading={logs.isFetchingNextPage} onClick={() => void logs.fetchNextPage()}>
            Load older
          </Button>
        </Group>
      )}
    </>
  );
}
