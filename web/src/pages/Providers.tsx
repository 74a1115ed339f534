// Providers: the upstream APIs Tollgate forwards to; list, create, and a link to each one's
// settings and credential pool.
import { Anchor, Button, Card, Checkbox, Group, Modal, NumberInput, Select, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { Empty, EnabledBadge, ErrorNote, Loading, PageHeader } from '../components/ui';
import { fmtMs } from '../format';

type Provider = Schemas['ProviderView'];
type Format = Provider['api_format'];
type Scheme = Provider['auth_scheme'];

const FORMATS: { value: Format; label: string }[] = [
  { value: 'openai', label: 'OpenAI (or compatible)' },
  { value: 'anthropic', label: 'Anthropic' },
  { value: 'gemini', label: 'Google Gemini' },
];
const SCHEMES: { value: Scheme; label: string }[] = [
  { value: 'bearer', label: 'Authorization: Bearer' },
  { value: 'x-api-key', label: 'x-api-key' },
  { value: 'x-goog-api-key', label: 'x-goog-api-key' },
];
const DEFAULT_SCHEME: Record<Format, Scheme> = {
  openai: 'bearer',
  anthropic: 'x-api-key',
  gemini: 'x-goog-api-key',
};

export function useProviders() {
  return useQuery({
    queryKey: ['providers'],
    queryFn: () => unwrap(api.GET('/api/providers')),
  });
}

export interface ProviderDraft {
  name: string;
  api_format: Format;
  base_url: string;
  auth_scheme: Scheme;
  connect_timeout_ms: number;
  first_byte_timeout_ms: number;
  health_check_path: string;
  enabled: boolean;
}

export function draftOf(p?: Provider): ProviderDraft {
  return {
    name: p?.name ?? '',
    api_format: p?.api_format ?? 'openai',
    base_url: p?.base_url ?? '',
    auth_scheme: p?.auth_scheme ?? 'bearer',
    connect_timeout_ms: p?.connect_timeout_ms ?? 5000,
    first_byte_timeout_ms: p?.first_byte_timeout_ms ?? 120000,
    health_check_path: p?.health_check_path ?? '',
    enabled: p?.enabled ?? true,
  };
}

function problemsOf(d: ProviderDraft) {
  let url: URL | null = null;
  try {
    url = new URL(d.base_url);
  } catch {
    url = null;
  }
  const timeout = (v: number) => (!Number.isInteger(v) || v < 1 || v > 600000 ? '1 to 600000 ms' : null);
  return {
    name: !d.name.trim() || d.name.length > 64 ? '1 to 64 characters' : null,
    base_url: !url || !['http:', 'https:'].includes(url.protocol) ? 'An http:// or https:// URL' : null,
    connect_timeout_ms: timeout(d.connect_timeout_ms),
    first_byte_timeout_ms: timeout(d.first_byte_timeout_ms),
    health_check_path: d.health_check_path && !d.health_check_path.startsWith('/') ? 'A path starting with /' : null,
  };
}

/** The provider form, for a new provider (format choosable) or an existing one. */
export function ProviderForm({
  initial,
  isNew,
  submitLabel,
  onSubmit,
  disabled,
}: {
  initial: ProviderDraft;
  isNew: boolean;
  submitLabel: string;
  onSubmit: (d: ProviderDraft) => Promise<void>;
  disabled?: boolean;
}) {
  const [d, setD] = useState(initial);
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const problems = problemsOf(d);
  const set = <K extends keyof ProviderDraft>(k: K, v: ProviderDraft[K]) => setD((old) => ({ ...old, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(d);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const show = (k: keyof typeof problems) => (touched ? problems[k] : null);
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <fieldset disabled={disabled} style={{ border: 0, padding: 0, margin: 0 }}>
        <ErrorNote error={error} title="Not saved" />
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" required value={d.name} onChange={(e) => set('name', e.currentTarget.value)} error={show('name')} />
            <Select
              label="API format"
              data={FORMATS}
              value={d.api_format}
              disabled={!isNew || disabled}
              description={isNew ? 'Fixed once created' : undefined}
              allowDeselect={false}
              onChange={(v) => {
                if (!v) return;
                const f = v as Format;
                setD((old) => ({ ...old, api_format: f, auth_scheme: DEFAULT_SCHEME[f] }));
              }}
            />
          </SimpleGrid>
          <TextInput
            label="Base URL"
            required
            placeholder="https://api.openai.com"
            value={d.base_url}
            onChange={(e) => set('base_url', e.currentTarget.value)}
            error={show('base_url')}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Credential header (auth scheme)"
              data={SCHEMES}
              value={d.auth_scheme}
              allowDeselect={false}
              onChange={(v) => v && set('auth_scheme', v as Scheme)}
            />
            <TextInput
              label="Health-check path"
              placeholder="the format's default (the model list)"
              value={d.health_check_path}
              onChange={(e) => set('health_check_path', e.currentTarget.value)}
              error={show('health_check_path')}
            />
            <NumberInput
              label="Connect timeout (ms)"
              min={1}
              max={600000}
              value={d.connect_timeout_ms}
              onChange={(v) => set('connect_timeout_ms', Number(v))}
              error={show('connect_timeout_ms')}
            />
            <NumberInput
              label="First-byte timeout (ms)"
              min={1}
              max={600000}
              value={d.first_byte_timeout_ms}
              onChange={(v) => set('first_byte_timeout_ms', Number(v))}
              error={show('first_byte_timeout_ms')}
            />
          </SimpleGrid>
          <Checkbox label="Enabled" checked={d.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
          {!disabled && (
            <Group>
              <Button type="submit" loading={busy}>
                {submitLabel}
              </Button>
            </Group>
          )}
        </Stack>
      </fieldset>
    </form>
  );
}

export default function Providers() {
  const { can } = useSession();
  const providers = useProviders();
  const [opened, { open, close }] = useDisclosure(false);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (d: ProviderDraft) =>
      unwrap(
        api.POST('/api/providers', {
          body: { ...d, health_check_path: d.health_check_path || null },
        }),
      ),
    onSuccess: (p) => {
      void queryClient.invalidateQueries({ queryKey: ['providers'] });
      notifications.show({ color: 'green', message: `Provider ${p.name} created` });
      close();
      void navigate(`/providers/${p.id}`);
    },
  });
  return (
    <>
      <PageHeader
        title="Providers"
        description="Upstream AI APIs. Each has a pool of credentials that client keys draw on."
        actions={can('providers:write') && <Button onClick={open}>Add provider</Button>}
      />
      <ErrorNote error={providers.error} />
      {providers.isPending ? (
        <Loading />
      ) : providers.data?.length === 0 ? (
        <Empty title="No providers">Add one to start forwarding requests.</Empty>
      ) : (
        <Card withBorder padding={0}>
          <Table.ScrollContainer minWidth={640}>
            <Table highlightOnHover verticalSpacing="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Format</Table.Th>
                  <Table.Th>Base URL</Table.Th>
                  <Table.Th>Timeouts</Table.Th>
                  <Table.Th>Status</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {providers.data?.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/providers/${p.id}`} fw={600}>
                        {p.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{p.api_format}</Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ wordBreak: 'break-all' }}>
                        {p.base_url}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {fmtMs(p.connect_timeout_ms)} / {fmtMs(p.first_byte_timeout_ms)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <EnabledBadge enabled={p.enabled} />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
      <Modal opened={opened} onClose={close} title="Add a provider" size="lg">
        <ProviderForm initial={draftOf()} isNew submitLabel="Create provider" onSubmit={async (d) => void (await create.mutateAsync(d))} />
      </Modal>
    </>
  );
}
