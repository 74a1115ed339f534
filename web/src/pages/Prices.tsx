// Model prices per million tokens with the time each takes effect, and the models used without
// a price, each with a one-click "Add price".
import { ActionIcon, Alert, Button, Card, Group, Modal, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader, When } from '../components/ui';
import { fmtInt, fmtTime, isoToLocal, localToIso } from '../format';

type Price = Schemas['PriceView'];
const AMOUNT = /^[0-9]+(\.[0-9]{1,9})?$/;

interface Draft {
  model: string;
  input: string;
  output: string;
  cache_write: string;
  cache_read: string;
  currency: string;
  effective_from: string;
}

const draftOf = (p?: Partial<Price>): Draft => ({
  model: p?.model ?? '',
  input: p?.input_per_mtok ?? '',
  output: p?.output_per_mtok ?? '',
  cache_write: p?.cache_write_per_mtok ?? '',
  cache_read: p?.cache_read_per_mtok ?? '',
  currency: p?.currency ?? 'USD',
  effective_from: isoToLocal(p?.effective_from),
});

function PriceForm({ initial, editing, onDone }: { initial: Draft; editing: Price | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [d, setD] = useState(initial);
  const [touched, setTouched] = useState(false);
  const save = useMutation({
    mutationFn: () => {
      const body: Schemas['CreatePrice'] = {
        model: d.model.trim(),
        input_per_mtok: d.input,
        output_per_mtok: d.output,
        cache_write_per_mtok: d.cache_write || null,
        cache_read_per_mtok: d.cache_read || null,
        currency: d.currency.trim() || null,
        effective_from: localToIso(d.effective_from),
      };
      return editing
        ? unwrap(api.PUT('/api/model-prices/{id}', { params: { path: { id: editing.id } }, body }))
        : unwrap(api.POST('/api/model-prices', { body }));
    },
    onSuccess: (p) => {
      void queryClient.invalidateQueries({ queryKey: ['prices'] });
      void queryClient.invalidateQueries({ queryKey: ['unpriced'] });
      notifications.show({ color: 'green', message: `Price for ${p.model} saved` });
      onDone();
    },
  });
  const amount = (v: string, required: boolean) =>
    !v ? (required ? 'Required' : null) : AMOUNT.test(v) ? null : 'An amount like 0.15 (up to 9 decimals)';
  const problems = {
    model: !d.model.trim() || d.model.length > 200 ? '1 to 200 characters' : null,
    input: amount(d.input, true),
    output: amount(d.output, true),
    cache_write: amount(d.cache_write, false),
    cache_read: amount(d.cache_read, false),
    currency: /^[A-Za-z]{3}$/.test(d.currency) ? null : 'A 3-letter code',
  };
  const show = (k: keyof typeof problems) => (touched ? problems[k] : null);
  const input = (k: keyof Draft, label: string, extra?: { description?: string; required?: boolean }) => (
    <TextInput label={label} {...extra} value={d[k]} onChange={(e) => setD({ ...d, [k]: e.currentTarget.value.trim() })} error={k in problems ? show(k as keyof typeof problems) : null} />
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!Object.values(problems).some(Boolean)) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm">
        <ErrorNote error={save.error} title="Not saved" />
        <TextInput
          label="Model"
          description="A dated or suffixed name is priced by its longest priced prefix"
          required
          value={d.model}
          onChange={(e) => setD({ ...d, model: e.currentTarget.value })}
          error={show('model')}
        />
        <SimpleGrid cols={2}>
          {input('input', 'Input per million tokens', { required: true })}
          {input('output', 'Output per million tokens', { required: true })}
          {input('cache_write', 'Cache write per million', { description: 'Input price when empty' })}
          {input('cache_read', 'Cache read per million', { description: 'Input price when empty' })}
          {input('currency', 'Currency')}
          <TextInput
            type="datetime-local"
            label="Effective from (local time)"
            description="Now when empty"
            value={d.effective_from}
            onChange={(e) => setD({ ...d, effective_from: e.currentTarget.value })}
          />
        </SimpleGrid>
        <Button type="submit" loading={save.isPending}>
          {editing ? 'Replace price' : 'Add price'}
        </Button>
      </Stack>
    </form>
  );
}

export default function Prices() {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<Price | null>(null);
  const [creating, setCreating] = useState<Draft | null>(() => {
    const add = params.get('add');
    return add ? draftOf({ model: add }) : null;
  });
  const prices = useQuery({ queryKey: ['prices'], queryFn: () => unwrap(api.GET('/api/model-prices')) });
  const unpriced = useQuery({ queryKey: ['unpriced'], queryFn: () => unwrap(api.GET('/api/model-prices/unpriced')) });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/model-prices/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['prices'] }),
    onError: (e) => notifications.show({ color: 'red', title: 'Not deleted', message: errorMessage(e) }),
  });
  const close = () => {
    setEditing(null);
    setCreating(null);
    if (params.get('add')) setParams(new URLSearchParams(), { replace: true });
  };
  const shown = (prices.data ?? []).filter((p) => p.model.toLowerCase().includes(search.toLowerCase()));
  const writable = can('prices:write');
  return (
    <>
      <PageHeader
        title="Prices"
        description="Per million tokens. A new price takes effect at its time; requests already recorded keep their cost."
        actions={writable && <Button onClick={() => setCreating(draftOf())}>Add price</Button>}
      />
      <ErrorNote error={prices.error ?? unpriced.error} />
      {unpriced.data && unpriced.data.length > 0 && (
        <Card withBorder mb="md" data-testid="unpriced">
          <Title order={2} size="h5" mb="xs">
            Used without a price
          </Title>
          <Alert color="yellow" mb="sm">
            These models were called with token usage but have no price, so their cost is not counted.
          </Alert>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Model</Table.Th>
                <Table.Th ta="right">Requests</Table.Th>
                <Table.Th>Last seen</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {unpriced.data.map((m) => (
                <Table.Tr key={m.model}>
                  <Table.Td>{m.model}</Table.Td>
                  <Table.Td ta="right">{fmtInt(m.requests)}</Table.Td>
                  <Table.Td>
                    <When at={m.last_seen} />
                  </Table.Td>
                  <Table.Td ta="right">
                    {writable && (
                      <Button size="xs" variant="light" onClick={() => setCreating(draftOf({ model: m.model }))}>
                        Add price
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      )}
      <TextInput label="Search models" placeholder="gpt-4o" value={search} onChange={(e) => setSearch(e.currentTarget.value)} mb="sm" maw={320} />
      {prices.isPending ? (
        <Loading />
      ) : shown.length === 0 ? (
        <Empty title={search ? 'No price matches' : 'No prices'}>Requests for models without a price are recorded as unpriced.</Empty>
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={720}>
            <Table highlightOnHover striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Model</Table.Th>
                  <Table.Th ta="right">Input</Table.Th>
                  <Table.Th ta="right">Output</Table.Th>
                  <Table.Th ta="right">Cache write</Table.Th>
                  <Table.Th ta="right">Cache read</Table.Th>
                  <Table.Th>Effective from</Table.Th>
                  {writable && <Table.Th />}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>{p.model}</Table.Td>
                    <Table.Td ta="right">{p.input_per_mtok}</Table.Td>
                    <Table.Td ta="right">{p.output_per_mtok}</Table.Td>
                    <Table.Td ta="right">{p.cache_write_per_mtok}</Table.Td>
                    <Table.Td ta="right">{p.cache_read_per_mtok}</Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {fmtTime(p.effective_from)} <Text span c="dimmed" size="xs">{p.currency}</Text>
                      </Text>
                    </Table.Td>
                    {writable && (
                      <Table.Td>
                        <Group gap={4} wrap="nowrap" justify="flex-end">
                          <Button size="xs" variant="subtle" onClick={() => setEditing(p)}>
                            Edit
                          </Button>
                          <ActionIcon
                            variant="subtle"
                            color="red"
                            aria-label={`Delete the price of ${p.model}`}
                            onClick={() => {
                              if (window.confirm(`Delete the price of ${p.model}?`)) remove.mutate(p.id);
                            }}
                          >
                            ×
                          </ActionIcon>
                        </Group>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={writable && (editing !== null || creating !== null)} onClose={close} title={editing ? `Replace the price of ${editing.model}` : 'Add a price'} size="lg">
        {(editing || creating) && <PriceForm initial={editing ? draftOf(editing) : (creating ?? draftOf())} editing={editing} onDone={close} />}
      </Modal>
    </>
  );
}
