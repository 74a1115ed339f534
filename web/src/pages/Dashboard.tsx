// Dashboard: totals, charts over time, top models / client keys / providers, and a warning
// for models used without a price, for a chosen window.
import '@mantine/charts/styles.css';
import { BarChart, LineChart } from '@mantine/charts';
import { Alert, Anchor, Card, SegmentedControl, SimpleGrid, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { fmtCompact, fmtInt, fmtMoney, fmtMs, fmtPct } from '../format';

type WindowKey = '1h' | '24h' | '7d' | '30d';
const WINDOWS: Record<WindowKey, { hours: number; granularity: 'hour' | 'day'; days: number }> = {
  '1h': { hours: 1, granularity: 'hour', days: 1 },
  '24h': { hours: 24, granularity: 'hour', days: 1 },
  '7d': { hours: 24 * 7, granularity: 'hour', days: 7 },
  '30d': { hours: 24 * 30, granularity: 'day', days: 30 },
};

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Card withBorder padding="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={`stat-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Card>
  );
}

function ChartCard({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Card withBorder padding="md">
      <Title order={2} size="h5" mb="sm">
        {title}
      </Title>
      {children}
    </Card>
  );
}

function label(start: string, granularity: 'hour' | 'day', days: number): string {
  const d = new Date(start);
  const hour = `${String(d.getHours()).padStart(2, '0')}:00`;
  const day = d.toLocaleDateString('en-GB', { month: 'short', day: 'numeric' });
  if (granularity === 'day') return day;
  return days > 1 ? `${day} ${hour}` : hour;
}

/** An amount for an axis: a few significant digits, no currency. */
const axisAmount = (v: number) => (v === 0 ? '0' : v < 0.01 ? v.toPrecision(2) : v.toFixed(2));

function TopTable<T extends Schemas['TotalsView']>({
  title,
  rows,
  name,
}: {
  title: string;
  rows: T[] | undefined;
  name: (row: T) => React.ReactNode;
}) {
  return (
    <ChartCard title={title}>
      {!rows || rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No requests in this window.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={280}>
          <Table striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th ta="right">Requests</Table.Th>
                <Table.Th ta="right">Tokens</Table.Th>
                <Table.Th ta="right">Cost</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map((r, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{name(r)}</Table.Td>
                  <Table.Td ta="right">{fmtInt(r.requests)}</Table.Td>
                  <Table.Td ta="right">{fmtCompact(r.tokens.total)}</Table.Td>
                  <Table.Td ta="right">{fmtMoney(r.cost)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </ChartCard>
  );
}

export default function Dashboard() {
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const key = (params.get('window') as WindowKey | null) ?? '24h';
  const win = WINDOWS[key] ?? WINDOWS['24h'];
  // Whole minutes, so the queries keep their keys for a while.
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const from = new Date(now - win.hours * 3_600_000).toISOString();
  const top = { from, limit: 8 };

  const overview = useQuery({
    queryKey: ['stats', 'overview', from],
    queryFn: () => unwrap(api.GET('/api/stats/overview', { params: { query: { from } } })),
  });
  const trends = useQuery({
    queryKey: ['stats', 'trends', win.granularity, win.days],
    queryFn: () =>
      unwrap(api.GET('/api/stats/trends', { params: { query: { granularity: win.granularity, days: win.days } } })),
  });
  const models = useQuery({
    queryKey: ['stats', 'top-models', from],
    queryFn: () => unwrap(api.GET('/api/stats/top-models', { params: { query: top } })),
  });
  const keys = useQuery({
    queryKey: ['stats', 'top-keys', from],
    queryFn: () => unwrap(api.GET('/api/stats/top-keys', { params: { query: top } })),
  });
  const providers = useQuery({
    queryKey: ['stats', 'top-providers', from],
    queryFn: () => unwrap(api.GET('/api/stats/top-providers', { params: { query: top } })),
  });
  const unpriced = useQuery({
    queryKey: ['unpriced'],
    queryFn: () => unwrap(api.GET('/api/model-prices/unpriced')),
    enabled: can('prices:read'),
  });

  const o = overview.data;
  const points = (trends.data?.points ?? []).map((p) => ({
    time: label(p.start, win.granularity, win.days),
    Requests: p.requests,
    Errors: p.errors,
    Prompt: p.tokens.prompt,
    Completion: p.tokens.completion,
    Cached: p.tokens.cache_read + p.tokens.cache_write,
    Cost: Number(p.cost),
    'Latency p50': p.latency_p50_ms,
    'Latency p95': p.latency_p95_ms,
    'TTFB p50': p.ttfb_p50_ms,
    'TTFB p95': p.ttfb_p95_ms,
  }));
  const recentUnpriced = (unpriced.data ?? []).filter((m) => m.last_seen >= from);

  return (
    <>
      <PageHeader
        title="Dashboard"
        description="Usage of the proxy. Charts are per hour (per day for 30 days), the resolution of Tollgate's usage rollups."
        actions={
          <SegmentedControl
            aria-label="Time window"
            value={key}
            onChange={(v) => setParams({ window: v })}
            data={[
              { value: '1h', label: '1 h' },
              { value: '24h', label: '24 h' },
              { value: '7d', label: '7 d' },
              { value: '30d', label: '30 d' },
            ]}
          />
        }
      />
      <ErrorNote error={overview.error ?? trends.error} />
      {recentUnpriced.length > 0 && (
        <Alert color="yellow" title="Models without a price" mb="md" data-testid="unpriced-warning">
          {recentUnpriced.map((m) => m.model).join(', ')} {recentUnpriced.length === 1 ? 'was' : 'were'} called
          in this window without a price, so their cost is not counted.{' '}
          <Anchor component={Link} to="/prices">
            Add prices
          </Anchor>
        </Alert>
      )}
      {overview.isPending ? (
        <Loading />
      ) : (
        o && (
          <SimpleGrid cols={{ base: 2, sm: 3, xl: 6 }} mb="md">
            <Stat label="Requests" value={fmtInt(o.requests)} />
            <Stat label="Error rate" value={fmtPct(o.error_rate)} hint={`${fmtInt(o.errors)} ${o.errors === 1 ? 'error' : 'errors'}`} />
            <Stat label="Tokens" value={fmtCompact(o.tokens.total)} hint={`${fmtInt(o.tokens.total)} in all`} />
            <Stat label="Cost" value={fmtMoney(o.cost)} hint={o.unpriced_requests ? `${fmtInt(o.unpriced_requests)} unpriced requests` : undefined} />
            <Stat label="Latency p50 / p95" value={`${fmtMs(o.latency_p50_ms)} / ${fmtMs(o.latency_p95_ms)}`} />
            <Stat label="TTFB p50 / p95" value={`${fmtMs(o.ttfb_p50_ms)} / ${fmtMs(o.ttfb_p95_ms)}`} />
          </SimpleGrid>
        )
      )}
      {trends.isPending ? (
        <Loading label="Loading charts…" />
      ) : points.every((p) => p.Requests === 0) ? (
        <Card withBorder mb="md">
          <Empty title="No traffic yet">
            Send a request through the proxy with a client key; it shows up here within seconds.
          </Empty>
        </Card>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
          <ChartCard title="Requests and errors">
            <BarChart h={220} data={points} dataKey="time" withLegend series={[{ name: 'Requests', color: 'blue.6' }, { name: 'Errors', color: 'red.6' }]} />
          </ChartCard>
          <ChartCard title="Tokens">
            <BarChart h={220} data={points} dataKey="time" type="stacked" withLegend valueFormatter={fmtCompact} series={[{ name: 'Prompt', color: 'indigo.6' }, { name: 'Completion', color: 'teal.6' }, { name: 'Cached', color: 'gray.5' }]} />
          </ChartCard>
          <ChartCard title="Cost">
            <BarChart h={220} data={points} dataKey="time" valueFormatter={axisAmount} yAxisProps={{ width: 80 }} series={[{ name: 'Cost', color: 'green.6' }]} />
          </ChartCard>
          <ChartCard title="Latency and time to first byte">
            <LineChart h={220} data={points} dataKey="time" withLegend connectNulls withDots={points.length <= 31} valueFormatter={fmtMs} series={[{ name: 'Latency p50', color: 'blue.6' }, { name: 'Latency p95', color: 'blue.3' }, { name: 'TTFB p50', color: 'orange.6' }, { name: 'TTFB p95', color: 'orange.3' }]} />
          </ChartCard>
        </SimpleGrid>
      )}
      <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }}>
        <TopTable title="Top models" rows={models.data?.items} name={(r) => r.model} />
        <TopTable
          title="Top client keys"
          rows={keys.data?.items}
          name={(r) =>
            r.name ? (
              <Anchor component={Link} to={`/client-keys/${r.client_key_id}`}>
                {r.name}
              </Anchor>
            ) : (
              `#${r.client_key_id} (deleted)`
            )
          }
        />
        <TopTable
          title="Top providers"
          rows={providers.data?.items}
          name={(r) =>
            r.name && can('providers:read') ? (
              <Anchor component={Link} to={`/providers/${r.provider_id}`}>
                {r.name}
              </Anchor>
            ) : (
              (r.name ?? `#${r.provider_id} (deleted)`)
            )
          }
        />
      </SimpleGrid>
    </>
  );
}
