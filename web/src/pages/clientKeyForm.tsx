// The client key form: name, providers (the first, and the others a unified-API key also
// reaches) and credential pool, strategy and retries, and (for
// those allowed to) the limits: rate, concurrency, daily quotas, budget, expiry, models.
import {
  Button,
  Checkbox,
  Divider,
  MultiSelect,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { useSession } from '../auth/session';
import { ErrorNote } from '../components/ui';
import { isoToLocal, localToIso } from '../format';
import { useProviders } from './Providers';

type Key = Schemas['ClientKeyView'];
type Strategy = NonNullable<Schemas['ClientKeyInput']['strategy']>;

export interface KeyDraft {
  name: string;
  provider_id: number | null;
  /** The providers the key reaches besides `provider_id` (unified API), in order. */
  also: string[];
  provider_key_ids: string[];
  strategy: Strategy;
  max_retries: number;
  enabled: boolean;
  rpm: number | '';
  max_concurrent: number | '';
  rpd: number | '';
  tpd: number | '';
  cost_per_day: string;
  budget: string;
  expires_at: string;
  allowed_models: string[];
}

export function keyDraft(k?: Key): KeyDraft {
  return {
    name: k?.name ?? '',
    provider_id: k?.provider_id ?? null,
    also: (k?.provider_ids ?? []).filter((id) => id !== k?.provider_id).map(String),
    provider_key_ids: (k?.provider_key_ids ?? []).map(String),
    strategy: (k?.strategy as Strategy | undefined) ?? 'round_robin',
    max_retries: k?.max_retries ?? 2,
    enabled: k?.enabled ?? true,
    rpm: k?.rpm ?? '',
    max_concurrent: k?.max_concurrent ?? '',
    rpd: k?.rpd ?? '',
    tpd: k?.tpd ?? '',
    cost_per_day: k?.cost_per_day ?? '',
    budget: k?.budget ?? '',
    expires_at: isoToLocal(k?.expires_at),
    allowed_models: k?.allowed_models ?? [],
  };
}

const AMOUNT = /^[0-9]+(\.[0-9]{1,9})?$/;
const posInt = (v: number | '') => v === '' || (Number.isInteger(v) && v > 0);

function problemsOf(d: KeyDraft) {
  return {
    name: !d.name.trim() || d.name.length > 128 ? '1 to 128 characters' : null,
    provider_id: d.provider_id == null ? 'Choose a provider' : null,
    provider_key_ids: d.provider_key_ids.length === 0 ? 'Choose at least one credential' : null,
    max_retries: !Number.isInteger(d.max_retries) || d.max_retries < 0 || d.max_retries > 10 ? '0 to 10' : null,
    rpm: posInt(d.rpm) ? null : 'A whole number above 0, or empty',
    max_concurrent: posInt(d.max_concurrent) ? null : 'A whole number above 0, or empty',
    rpd: posInt(d.rpd) ? null : 'A whole number above 0, or empty',
    tpd: posInt(d.tpd) ? null : 'A whole number above 0, or empty',
    cost_per_day: d.cost_per_day && !AMOUNT.test(d.cost_per_day) ? 'An amount like 5 or 2.50' : null,
    budget: d.budget && !AMOUNT.test(d.budget) ? 'An amount like 100 or 12.5' : null,
    expires_at: d.expires_at && !localToIso(d.expires_at) ? 'A date and time' : null,
    allowed_models: d.allowed_models.length > 100 ? 'At most 100 patterns' : null,
  };
}

/** The API body for a draft; limits only when `withLimits` (null clears one). */
export function keyBody(d: KeyDraft, withLimits: boolean): Schemas['ClientKeyInput'] {
  const body: Schemas['ClientKeyInput'] = {
    name: d.name.trim(),
    ...(d.provider_id == null ? {} : { provider_ids: [d.provider_id, ...d.also.map(Number)] }),
    provider_key_ids: d.provider_key_ids.map(Number),
    strategy: d.strategy,
    max_retries: d.max_retries,
    enabled: d.enabled,
  };
  if (withLimits) {
    Object.assign(body, {
      rpm: d.rpm === '' ? null : d.rpm,
      max_concurrent: d.max_concurrent === '' ? null : d.max_concurrent,
      rpd: d.rpd === '' ? null : d.rpd,
      tpd: d.tpd === '' ? null : d.tpd,
      cost_per_day: d.cost_per_day || null,
      budget: d.budget || null,
      expires_at: localToIso(d.expires_at),
      allowed_models: d.allowed_models.length ? d.allowed_models : null,
    });
  }
  return body;
}

export function ClientKeyForm({
  initial,
  isNew,
  submitLabel,
  onSubmit,
}: {
  initial: KeyDraft;
  isNew: boolean;
  submitLabel: string;
  onSubmit: (d: KeyDraft, withLimits: boolean) => Promise<void>;
}) {
  const { can } = useSession();
  const withLimits = can('client_keys:write');
  const providers = useProviders();
  const [d, setD] = useState(initial);
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const creds = useQuery({
    queryKey: ['provider-keys', 'all'],
    queryFn: () => unwrap(api.GET('/api/provider-keys')),
    enabled: d.provider_id != null && can('provider_keys:read'),
  });
  const reach = d.provider_id == null ? [] : [d.provider_id, ...d.also.map(Number)];
  const providerName = (id: number) => providers.data?.find((p) => p.id === id)?.name ?? `#${id}`;
  const problems = problemsOf(d);
  const show = (k: keyof typeof problems) => (touched ? problems[k] : null);
  const set = <K extends keyof KeyDraft>(k: K, v: KeyDraft[K]) => setD((o) => ({ ...o, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (Object.values(problems).some(Boolean)) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(d, withLimits);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const int = (k: 'rpm' | 'max_concurrent' | 'rpd' | 'tpd', label: string, description?: string) => (
    <NumberInput
      label={label}
      description={description}
      placeholder="no limit"
      min={1}
      allowDecimal={false}
      value={d[k]}
      onChange={(v) => set(k, v === '' ? '' : Number(v))}
      error={show(k)}
    />
  );
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <Stack gap="sm">
        <ErrorNote error={error} title="Not saved" />
        <TextInput label="Name" required value={d.name} onChange={(e) => set('name', e.currentTarget.value)} error={show('name')} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Select
            label="Provider"
            required
            disabled={!isNew}
            description={isNew ? 'Fixed once created' : undefined}
            data={(providers.data ?? []).map((p) => ({ value: String(p.id), label: p.name }))}
            value={d.provider_id == null ? null : String(d.provider_id)}
            onChange={(v) =>
              setD((o) => ({ ...o, provider_id: v ? Number(v) : null, also: o.also.filter((a) => a !== v), provider_key_ids: [] }))
            }
            error={show('provider_id')}
          />
          <MultiSelect
            label="Also reaches"
            description="Other providers for the unified API (models as provider/model or routes)"
            placeholder={d.also.length ? undefined : 'Only the provider above'}
            data={(providers.data ?? [])
              .filter((p) => p.id !== d.provider_id)
              .map((p) => ({ value: String(p.id), label: p.name }))}
            value={d.also}
            onChange={(v) =>
              setD((o) => {
                const keep = new Set([o.provider_id, ...v.map(Number)]);
                const ownerOf = (id: string) => creds.data?.find((c) => String(c.id) === id)?.provider_id;
                return { ...o, also: v, provider_key_ids: o.provider_key_ids.filter((id) => keep.has(ownerOf(id) ?? o.provider_id)) };
              })
            }
          />
          {can('provider_keys:read') ? (
            <MultiSelect
              label="Credential pool"
              required
              placeholder={d.provider_id == null ? 'Choose a provider first' : 'Choose credentials'}
              data={(creds.data ?? [])
                .filter((c) => reach.includes(c.provider_id))
                .map((c) => ({
                  value: String(c.id),
                  label: reach.length > 1 ? `${c.name} (${c.secret_preview}, ${providerName(c.provider_id)})` : `${c.name} (${c.secret_preview})`,
                }))}
              value={d.provider_key_ids}
              onChange={(v) => set('provider_key_ids', v)}
              error={show('provider_key_ids')}
            />
          ) : (
            <TagsInput
              label="Credential ids"
              description="Your role does not list credentials: ask an administrator for their ids"
              required
              value={d.provider_key_ids}
              onChange={(v) => set('provider_key_ids', v.filter((x) => /^\d+$/.test(x)))}
              error={show('provider_key_ids')}
            />
          )}
          <Select
            label="Strategy"
            allowDeselect={false}
            data={[
              { value: 'round_robin', label: 'Round robin' },
              { value: 'weighted', label: 'Weighted (by credential weight)' },
              { value: 'health_best', label: 'Healthiest first' },
            ]}
            value={d.strategy}
            onChange={(v) => v && set('strategy', v as Strategy)}
          />
          <NumberInput label="Retries on another credential" min={0} max={10} allowDecimal={false} value={d.max_retries} onChange={(v) => set('max_retries', Number(v))} error={show('max_retries')} />
        </SimpleGrid>
        <Checkbox label="Enabled" checked={d.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
        {withLimits ? (
          <>
            <Divider label="Limits (empty = none)" labelPosition="left" />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {int('rpm', 'Requests per minute')}
              {int('max_concurrent', 'Concurrent requests')}
              {int('rpd', 'Requests per day')}
              {int('tpd', 'Tokens per day')}
              <TextInput label="Cost per day" placeholder="no limit" value={d.cost_per_day} onChange={(e) => set('cost_per_day', e.currentTarget.value.trim())} error={show('cost_per_day')} />
              <TextInput label="Budget (lifetime)" placeholder="no limit" value={d.budget} onChange={(e) => set('budget', e.currentTarget.value.trim())} error={show('budget')} />
              <TextInput type="datetime-local" label="Expires at (local time)" value={d.expires_at} onChange={(e) => set('expires_at', e.currentTarget.value)} error={show('expires_at')} />
              <TagsInput
                label="Allowed models"
                description="Patterns, * matches anything; empty allows every model"
                placeholder="gpt-4o-mini*"
                value={d.allowed_models}
                onChange={(v) => set('allowed_models', v)}
                error={show('allowed_models')}
              />
            </SimpleGrid>
          </>
        ) : (
          <Text size="sm" c="dimmed">
            Limits are set by an administrator.
          </Text>
        )}
        <Button type="submit" loading={busy}>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  );
}
