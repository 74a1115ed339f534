// Model routes of the unified API: a model name standing for ordered provider/model targets with
// weights and a strategy. Stored routes are edited here; the config file's redirects are shown
// read-only.
import { ActionIcon, Badge, Button, Card, Group, Modal, Select, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, errorMessage, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, ErrorNote, Loading, PageHeader } from '../components/ui';

type ModelRoute = Schemas['ModelRouteView'];

const STRATEGIES: { value: Strategy; label: string }[] = [
  { value: 'first_available', label: 'First available' },
  { value: 'round_robin', label: 'Round robin' },
  { value: 'random', label: 'Random' },
  { value: 'weighted', label: 'Weighted' },
];

type Strategy = NonNullable<Schemas['ModelRouteInput']['strategy']>;

interface Draft {
  name: string;
  strategy: Strategy;
  targets: string;
}

const draftOf = (r?: ModelRoute): Draft => ({
  name: r?.name ?? '',
  strategy: (r?.strategy as Strategy | undefined) ?? 'first_available',
  targets: (r?.targets ?? []).map((t) => (t.weight === 1 ? t.target : `${t.target} ${t.weight}`)).join('\n'),
});

/** One target per line: `provider/model`, optionally followed by a weight. */
function parseTargets(text: string): { targets: Schemas['RouteTargetView'][]; problem: string | null } {
  const targets: Schemas['RouteTargetView'][] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [target = '', weight, ...rest] = line.split(/\s+/);
    const w = weight === undefined ? 1 : Number(weight);
    if (rest.length > 0 || !/^[^/\s]+\/\S+$/.test(target) || !Number.isInteger(w) || w < 1 || w > 1000) {
      return { targets, problem: `"${line}" is not "provider/model [weight 1-1000]"` };
    }
    targets.push({ target, weight: w });
  }
  if (targets.length === 0 || targets.length > 20) return { targets, problem: '1 to 20 targets, one per line' };
  return { targets, problem: null };
}

function RouteForm({ editing, onDone }: { editing: ModelRoute | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [d, setD] = useState(draftOf(editing ?? undefined));
  const [touched, setTouched] = useState(false);
  const parsed = parseTargets(d.targets);
  const problems = {
    name: /^\S{1,128}$/.test(d.name) ? null : '1 to 128 characters, no blanks',
    targets: parsed.problem,
  };
  const save = useMutation({
    mutationFn: () => {
      const body: Schemas['ModelRouteInput'] = { name: d.name, strategy: d.strategy, targets: parsed.targets };
      return editing?.id
        ? unwrap(api.PATCH('/api/model-routes/{id}', { params: { path: { id: editing.id } }, body }))
        : unwrap(api.POST('/api/model-routes', { body }));
    },
    onSuccess: (r) => {
      void queryClient.invalidateQueries({ queryKey: ['model-routes'] });
      notifications.show({ color: 'green', message: `Route ${r.name} saved` });
      onDone();
    },
  });
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
          label="Model name"
          description="What clients ask for, e.g. fast"
          required
          value={d.name}
          onChange={(e) => setD({ ...d, name: e.currentTarget.value.trim() })}
          error={touched && problems.name}
        />
        <Select
          label="Strategy"
          description="Which target is tried first; the others follow in order when it fails"
          data={STRATEGIES}
          value={d.strategy}
          onChange={(v) => setD({ ...d, strategy: (v as Strategy | null) ?? 'first_available' })}
          allowDeselect={false}
        />
        <Textarea
          label="Targets"
          description="One per line: provider/model, then an optional weight (for weighted)"
          placeholder={'anthropic/claude-haiku-4-5\nopenai/gpt-4o-mini 2'}
          autosize
          minRows={3}
          required
          value={d.targets}
          onChange={(e) => setD({ ...d, targets: e.currentTarget.value })}
          error={touched && problems.targets}
          styles={{ input: { fontFamily: 'monospace' } }}
        />
        <Button type="submit" loading={save.isPending}>
          {editing ? 'Save route' : 'Add route'}
        </Button>
      </Stack>
    </form>
  );
}

export default function ModelRoutes() {
  const { can } = useSession();
  const queryClient = useQueryClient();
  const writable = can('routes:write');
  const [editing, setEditing] = useState<ModelRoute | null>(null);
  const [creating, setCreating] = useState(false);
  const routes = useQuery({ queryKey: ['model-routes'], queryFn: () => unwrap(api.GET('/api/model-routes')) });
  const remove = useMutation({
    mutationFn: (id: number) => unwrap(api.DELETE('/api/model-routes/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['model-routes'] }),
    onError: (e) => notifications.show({ color: 'red', title: 'Not deleted', message: errorMessage(e) }),
  });
  const close = () => {
    setEditing(null);
    setCreating(false);
  };
  return (
    <>
      <PageHeader
        title="Model routes"
        description="A model name that stands for provider/model targets, tried in order until one answers. Keys reaching several providers use them."
        actions={writable && <Button onClick={() => setCreating(true)}>Add route</Button>}
      />
      <ErrorNote error={routes.error} />
      {routes.isPending ? (
        <Loading />
      ) : (routes.data ?? []).length === 0 ? (
        <Empty title="No model routes">Clients can still name a model as provider/model.</Empty>
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover striped data-testid="model-routes">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Strategy</Table.Th>
                  <Table.Th>Targets</Table.Th>
                  {writable && <Table.Th />}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(routes.data ?? []).map((r) => (
                  <Table.Tr key={`${r.from_config ? 'config' : 'db'}-${r.name}`} data-name={r.name}>
                    <Table.Td>
                      <Group gap={6}>
                        <Text ff="monospace" size="sm">
                          {r.name}
                        </Text>
                        {r.from_config && (
                          <Badge size="xs" variant="light" color="gray">
                            config file
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>{STRATEGIES.find((s) => s.value === r.strategy)?.label ?? r.strategy}</Table.Td>
                    <Table.Td>
                      <Stack gap={2}>
                        {r.targets.map((t, i) => (
                          <Text key={t.target} size="sm" ff="monospace">
                            {i + 1}. {t.target}
                            {r.strategy === 'weighted' && <Text span c="dimmed"> × {t.weight}</Text>}
                          </Text>
                        ))}
                      </Stack>
                    </Table.Td>
                    {writable && (
                      <Table.Td>
                        {!r.from_config && r.id != null && (
                          <Group gap={4} wrap="nowrap" justify="flex-end">
                            <Button size="xs" variant="subtle" onClick={() => setEditing(r)}>
                              Edit
                            </Button>
                            <ActionIcon
                              variant="subtle"
                              color="red"
                              aria-label={`Delete the route ${r.name}`}
                              onClick={() => {
                                if (r.id != null && window.confirm(`Delete the route ${r.name}?`)) remove.mutate(r.id);
                              }}
                            >
                              ×
                            </ActionIcon>
                          </Group>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={writable && (editing !== null || creating)} onClose={close} title={editing ? `Edit the route ${editing.name}` : 'Add a model route'} size="lg">
        {(editing || creating) && <RouteForm editing={editing} onDone={close} />}
      </Modal>
    </>
  );
}
