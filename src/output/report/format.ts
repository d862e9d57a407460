// Numbers, sizes and times as the page writes them (locale-independent, so the page is the same everywhere).

const NUMBER = new Intl.NumberFormat('en-US');

export function num(n: number): string {
  return NUMBER.format(n);
}

/** 1.2k, 34k, 5.6M: for badges. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  const [v, unit] = n < 1e6 ? [n / 1e3, 'k'] : [n / 1e6, 'M'];
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${unit}`;
}

const KB = 1000;
const MB = 1000 * KB;
const GB = 1000 * MB;

export function bytes(n: number): string {
  if (n >= GB) return `${(n / GB).toFixed(2)} GB`;
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  if (n >= KB) return `${(n / KB).toFixed(1)} kB`;
  return `${n} B`;
}

/** Epoch seconds as `2023-12-07 14:33:54.211` (UTC; no fraction when whole seconds); '' for null. */
export function time(t: number | null | undefined): string {
  if (t === null || t === undefined || !Number.isFinite(t)) return '';
  const d = new Date(Math.round(t * 1000));
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').replace(/(\.000)?Z$/, '');
}

/** `first – last (duration)`, or '' when unknown. */
export function timeRange(first: number | null | undefined, last: number | null | undefined): string {
  if (first === null || first === undefined || last === null || last === undefined) return '';
  const a = time(first);
  const b = time(last);
  return `${a} – ${a.slice(0, 10) === b.slice(0, 10) ? b.slice(11) : b} (${duration(last - first)})`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d ${Math.round((seconds % 86400) / 3600)} h`;
}
