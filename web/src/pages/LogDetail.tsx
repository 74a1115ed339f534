// One request: status, every attempt (which credential, status, latency), tokens by kind, the
// price used and the cost, and the request id to find it in Tollgate's own log.
import { Anchor, Badge, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorNote, Loading, PageHeader } from '../components/ui';
import { fmtInt, fmtMoney, fmtMs, fmtTime } from '../format';
import { StatusBadge } from './Logs';

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

export default function LogDetail() {
  const id = Number(useParams().id);
  const { can } = useSession();
  const log = useQuery({
    queryKey: ['logs', 'one', id],
    queryFn: () => unwrap(api.GET('/api/logs/{id}', { params: { path: { id } } })),
  });
  const prices = useQuery({
    queryKey: ['prices'],
    queryFn: () => unwrap(api.GET('/api/model-prices')),
    enabled: can('prices:read'),
  });
  const credentials = useQuery({
    queryKey: ['provider-keys', 'all'],
    queryFn: () => unwrap(api.GET('/api/provider-keys')),
    enabled: can('provider_keys:read'),
  });
  const credential = (id: number) => {
    const c = credentials.data?.find((k) => k.id === id);
    return c ? `${c.name} (#${id})` : `#${id}`;
  };
  if (log.isPending) return <Loading />;
  if (log.error) return <ErrorNote error={log.error} title="Request not loaded" />;
  const r = log.data;
  // The price in effect when the request was made: the latest one for the model (or its
  // longest priced prefix) that took effect before it.
  const price = (prices.data ?? [])
    .filter((p) => r.model && r.model.startsWith(p.model) && p.effective_from <= r.created_at)
    .sort((a, b) => b.model.length - a.model.length || b.effective_from.localeCompare(a.effective_from))[0];
  return (
    <>
      <PageHeader
        title={`Request ${r.id}`}
        description={
          <Anchor component={Link} to="/logs">
            Back to logs
          </Anchor>
        }
      />
      <Stack>
        <Card withBorder>
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Field label="Status">
              <Group gap={4}>
                <StatusBadge status={r.status} />
                {r.partial && <Badge color="yellow">partial</Badge>}
                {r.stream && <Badge variant="outline">stream</Badge>}
              </Group>
            </Field>
            <Field label="Time">{fmtTime(r.created_at)}</Field>
            <Field label="Request">
              {r.method} {r.path}
            </Field>
            <Field label="Model">{r.model ?? '—'}</Field>
            <Field label="Latency">{fmtMs(r.latency_ms)}</Field>
            <Field label="Time to first byte">{fmtMs(r.ttfb_ms)}</Field>
            <Field label="Error kind">{r.error_kind ?? '—'}</Field>
            <Field label="Request id">
              <Code data-testid="request-id">{r.request_id}</Code>
            </Field>
          </SimpleGrid>
        </Card>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <Card withBorder>
            <Title order={2} size="h5" mb="sm">
              Tokens
            </Title>
            <Table>
              <Table.Tbody>
                <Table.Tr>
                  <Table.Td>Input</Table.Td>
                  <Table.Td ta="right" data-testid="tokens-input">{fmtInt(r.prompt_tokens)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Td>Output</Table.Td>
                  <Table.Td ta="right" data-testid="tokens-output">{fmtInt(r.completion_tokens)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Td>Cache write</Table.Td>
                  <Table.Td ta="right">{fmtInt(r.cache_write_tokens)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Td>Cache read</Table.Td>
                  <Table.Td ta="right">{fmtInt(r.cache_read_tokens)}</Table.Td>
                </Table.Tr>
              </Table.Tbody>
            </Table>
          </Card>
          <Card withBorder>
            <Title order={2} size="h5" mb="sm">
              Cost
            </Title>
            <Text size="xl" fw={700} data-testid="cost">
              {r.priced ? fmtMoney(r.cost, price?.currency) : 'Unpriced'}
            </Text>
            {price ? (
              <Text size="sm" c="dimmed">
                Price used: {price.model}, per million tokens: input {price.input_per_mtok}, output {price.output_per_mtok},
                cache write {price.cache_write_per_mtok}, cache read {price.cache_read_per_mtok} {price.currency} (in effect
                from {fmtTime(price.effective_from)}).
              </Text>
            ) : (
              <Text size="sm" c="dimmed">
                {r.priced ? 'The price has since been removed.' : 'No price for this model when the request was made.'}{' '}
                {can('prices:write') && r.model && (
                  <Anchor component={Link} to={`/prices?add=${encodeURIComponent(r.model)}`}>
                    Add a price
                  </Anchor>
                )}
              </Text>
            )}
          </Card>
        </SimpleGrid>
        <Card withBorder>
          <Title order={2} size="h5" mb="sm">
            Attempts
          </Title>
          {r.attempts.length === 0 ? (
            <Text size="sm" c="dimmed">
              None: the request was answered before reaching a provider (for example, refused by a limit).
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={420}>
              <Table data-testid="attempts">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>#</Table.Th>
                    <Table.Th>Credential</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Error</Table.Th>
                    <Table.Th ta="right">Latency</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.attempts.map((a, i) => (
                    <Table.Tr key={i}>
                      <Table.Td>{i + 1}</Table.Td>
                      <Table.Td>{credential(a.provider_key_id)}</Table.Td>
                      <Table.Td>{a.status ?? '—'}</Table.Td>
                      <Table.Td>{a.error_kind ?? '—'}</Table.Td>
                      <Table.Td ta="right">{fmtMs(a.latency_ms)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Card>
      </Stack>
    </>
  );
}
