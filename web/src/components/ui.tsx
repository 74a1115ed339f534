// Small building blocks every page uses: headers, loading/error/empty states, the API's error
// message, a secret shown once with a copy button, usage bars, health badges.
import {
  Alert,
  Badge,
  Button,
  Center,
  Code,
  CopyButton,
  Group,
  Loader,
  Progress,
  Stack,
  Text,
  Title,
  Tooltip,
} from '@mantine/core';
import type { ReactNode } from 'react';
import { errorMessage } from '../api/client';
import { fmtRelative, fmtTime } from '../format';

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <Group justify="space-between" align="flex-start" mb="md" wrap="wrap" gap="sm">
      <div>
        <Title order={1} size="h2">
          {title}
        </Title>
        {description && (
          <Text c="dimmed" size="sm" mt={4}>
            {description}
          </Text>
        )}
      </div>
      {actions && <Group gap="xs">{actions}</Group>}
    </Group>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="xs">
        <Loader size="sm" />
        <Text size="sm" c="dimmed">
          {label}
        </Text>
      </Group>
    </Center>
  );
}

export function ErrorNote({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  if (!error) return null;
  return (
    <Alert color="red" title={title} role="alert" mb="md">
      {errorMessage(error)}
    </Alert>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Stack align="center" gap={4} py="xl" data-testid="empty-state">
      <Text fw={600}>{title}</Text>
      {children && (
        <Text size="sm" c="dimmed" ta="center" maw={480}>
          {children}
        </Text>
      )}
    </Stack>
  );
}

/** A secret shown this one time: copy button and a warning. */
export function SecretOnce({ label, secret }: { label: string; secret: string }) {
  return (
    <Stack gap="xs">
      <Alert color="yellow" title="Copy it now">
        {label} is shown only this once. Tollgate keeps only a hash of it: if you lose it, rotate
        the key.
      </Alert>
      <Group gap="xs" wrap="nowrap" align="center">
        <Code
          block
          data-testid="secret-value"
          style={{ flex: 1, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}
        >
          {secret}
        </Code>
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button onClick={copy} color={copied ? 'teal' : 'blue'} variant="light">
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Group>
    </Stack>
  );
}

/** Used against a limit; no limit shows the figure alone. */
export function UsageBar({
  label,
  used,
  limit,
  display,
}: {
  label: string;
  used: number;
  limit: number | null | undefined;
  display: (n: number) => string;
}) {
  const pct = limit ? Math.min(100, (used / limit) * 100) : 0;
  const color = pct >= 90 ? 'red' : pct >= 70 ? 'yellow' : 'blue';
  return (
    <div>
      <Group justify="space-between" gap="xs">
        <Text size="sm">{label}</Text>
        <Text size="sm" c="dimmed">
          {display(used)}
          {limit ? ` of ${display(limit)}` : ' (no limit)'}
        </Text>
      </Group>
      <Progress
        value={pct}
        color={color}
        size="sm"
        aria-label={`${label}: ${limit ? `${Math.round(pct)}% of the limit` : 'no limit'}`}
      />
    </div>
  );
}

const STATE_COLORS: Record<string, string> = {
  healthy: 'green',
  cooling_down: 'yellow',
  circuit_open: 'orange',
  invalid: 'red',
  disabled: 'gray',
};

const STATE_LABELS: Record<string, string> = {
  healthy: 'Active',
  cooling_down: 'Cooling down',
  circuit_open: 'Circuit open',
  invalid: 'Invalid',
  disabled: 'Disabled',
};

export function HealthBadge({
  state,
  reason,
  until,
}: {
  state: string;
  reason?: string | null;
  until?: string | null;
}) {
  const label = STATE_LABELS[state] ?? state;
  const text = until && state !== 'invalid' ? `${label} until ${fmtTime(until)}` : label;
  const badge = (
    <Badge color={STATE_COLORS[state] ?? 'gray'} variant="light" data-testid="health-state">
      {text}
    </Badge>
  );
  return reason ? (
    <Tooltip label={reason} multiline maw={320}>
      {badge}
    </Tooltip>
  ) : (
    badge
  );
}

export function EnabledBadge({ enabled }: { enabled: boolean }) {
  return (
    <Badge color={enabled ? 'green' : 'gray'} variant="dot">
      {enabled ? 'Enabled' : 'Disabled'}
    </Badge>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <>—</>;
  return (
    <Tooltip label={fmtTime(at)}>
      <span>{fmtRelative(at)}</span>
    </Tooltip>
  );
}
