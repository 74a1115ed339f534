// How numbers, amounts, times and durations read in the console.
const int = new Intl.NumberFormat('en-US');
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const fmtInt = (n: number | null | undefined): string => (n == null ? '—' : int.format(n));
export const fmtCompact = (n: number | null | undefined): string =>
  n == null ? '—' : compact.format(n);

/** A decimal string amount (the API's), to at most 6 decimals without trailing zeros. */
export function fmtMoney(amount: string | null | undefined, currency = 'USD'): string {
  if (amount == null) return '—';
  const n = Number(amount);
  if (!Number.isFinite(n)) return amount;
  const digits = n !== 0 && Math.abs(n) < 0.01 ? 6 : 2;
  return `${n.toFixed(digits).replace(/(\.\d\d)0+$/, '$1')} ${currency}`;
}

export const fmtMs = (ms: number | null | undefined): string => {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
};

export const fmtPct = (x: number | null | undefined): string =>
  x == null ? '—' : `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function fmtRelative(iso: string | null | undefined): string {
  if (!iso) return '—';
  const s = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86400), 'day');
}

/** `datetime-local` input value (local time) to an RFC 3339 string, or null. */
export function localToIso(v: string): string | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An RFC 3339 string to a `datetime-local` input value (local time). */
export function isoToLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
