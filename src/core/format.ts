// Formatting shared by every layer. Pure.

/** `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** `812 B`, `3.4 KiB`, `52.1 MiB`, `1.2 GiB` (powers of 1024). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/**
 * Bytes from `512`, `100Mi`, `1Gi`, `1GiB`, `500M`, `2G` (Ki/Mi/Gi: powers of 1024; K/M/G: of
 * 1000, as Kubernetes quantities), or undefined when it is none of those.
 */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?B?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? '';
  const pow = { '': 0, K: 1, M: 2, G: 3, T: 4 }[unit.charAt(0).toUpperCase() as 'K'] ?? 0;
  const base = unit.length === 2 ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** pow);
}
