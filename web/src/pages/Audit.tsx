// The audit trail: every management write, sign-in and sign-out, with who, what, when and
// from where (never secret values).
import { Button, Card, Code, Group, Pagination, SimpleGrid, Table, Text, TextInput } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';
import { fmtTime, isoToLocal, localToIso } from '../format';

const PER_PAGE = 50;

export default function Audit() {
  const [params, setParams] = useSearchParams();
  const [open, setOpen] = useState<number | null>(null);
  const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
  const query = {
    resource: params.get('resource') || undefined,
    action: params.get('action') || undefined,
    from: params.get('from') || undefined,
    to: params.get('to') || undefined,
    page,
    per_page: PER_PAGE,
  };
  const audit = useQuery({
    queryKey: ['audit', query],
    queryFn: () => unwrap(api.GET('/api/audit', { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const set = (k: string, v: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k !== 'page') next.delete('page');
    setParams(next, { replace: true });
  };
  const pages = audit.data ? Math.max(1, Math.ceil(audit.data.total / PER_PAGE)) : 1;
  return (
    <>
      <PageHeader title="Audit" description="Who changed what, newest first. Secret values are never recorded." />
      <Card withBorder mb="md" component="section" aria-label="Filters">
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="sm">
          <TextInput label="Resource" placeholder="client-keys" value={params.get('resource') ?? ''} onChange={(e) => set('resource', e.currentTarget.value.trim() || null)} />
          <TextInput label="Action" placeholder="create" value={params.get('action') ?? ''} onChange={(e) => set('action', e.currentTarget.value.trim() || null)} />
          <TextInput type="datetime-local" label="From" value={isoToLocal(params.get('from'))} onChange={(e) => set('from', localToIso(e.currentTarget.value))} />
          <TextInput type="datetime-local" label="To" value={isoToLocal(params.get('to'))} onChange={(e) => set('to', localToIso(e.currentTarget.value))} />
        </SimpleGrid>
      </Card>
      <ErrorNote error={audit.error} />
      {audit.isPending ? (
        <Loading />
      ) : audit.data?.items.length === 0 ? (
        <Empty title="Nothing recorded" />
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Time</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Resource</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {audit.data?.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{fmtTime(e.created_at)}</Table.Td>
                    <Table.Td>{e.username ?? (e.user_id != null ? `#${e.user_id}` : '—')}</Table.Td>
                    <Table.Td>
                      <Text size="sm" c={e.action.endsWith('_failed') ? 'red' : undefined}>
                        {e.action}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {e.resource}
                      {e.resource_id ? ` ${e.resource_id}` : ''}
                    </Table.Td>
                    <Table.Td>{e.address ?? '—'}</Table.Td>
                    <Table.Td>
                      {open === e.id ? (
                        <Code block style={{ whiteSpace: 'pre-wrap', maxWidth: 420 }}>
                          {JSON.stringify(e.details, null, 1)}
                        </Code>
                      ) : (
                        <Button size="xs" variant="subtle" onClick={() => setOpen(e.id)}>
                          Details
                        </Button>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      {pages > 1 && (
        <Group justify="center" mt="md">
          <Pagination total={pages} value={page} onChange={(p) => set('page', String(p))} />
        </Group>
      )}
    </>
  );
}
