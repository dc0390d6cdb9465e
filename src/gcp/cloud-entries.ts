// Cloud Logging entries from mirrored log lines and Job results: shapes, splitting, batching and
// the Console link. Pure.
import type { JobSummary } from '../core/outcome.js';

/** Cloud Logging's limit on one entry, bytes. Source: https://cloud.google.com/logging/quotas */
export const MAX_ENTRY_BYTES = 256 * 1024;
/** Room for the message in one entry: the limit less the entry's other fields, bytes. */
export const MAX_MESSAGE_BYTES = MAX_ENTRY_BYTES - 16 * 1024;
/** Cloud Logging's limit on one `entries.write` request is 10 MB; kubestep stays below it, bytes. */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** At most this many entries per request. */
export const MAX_BATCH_ENTRIES = 1000;

/** What every entry of a run carries as labels (all strings, as the API wants). */
export interface RunLabels {
  run_id: string;
  /** Cloud Build's BUILD_ID, or GitHub's GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT; absent when neither. */
  build_id?: string;
  /** The cluster's name (kubeconfig cluster, GKE cluster) or server. */
  cluster: string;
}

/** One entry to write, in the shape of the API's LogEntry (the parts kubestep sets). */
export interface CloudEntry {
  severity: 'DEFAULT' | 'INFO' | 'ERROR';
  /** RFC 3339. */
  timestamp: string;
  labels: Record<string, string>;
  jsonPayload: Record<string, unknown>;
  /** When a line was longer than one entry may be. Source: LogEntry.split */
  split?: { uid: string; index: number; totalSplits: number };
  /** Its size as counted for the limits (JSON bytes), bytes. */
  bytes: number;
}

/** One mirrored line and where it came from. */
export interface CloudLine {
  namespace: string;
  pod: string;
  container: string;
  job?: string | undefined;
  /** The line without its newline. */
  text: string;
  /** 1-based number of the line in its container's log, for ordering in queries. */
  seq: number;
}

/**
 * The labels of a run from its id and the CI environment: `build_id` is Cloud Build's `BUILD_ID`,
 * else GitHub's `GITHUB_RUN_ID-GITHUB_RUN_ATTEMPT`.
 */
export function runLabels(
  runId: string,
  cluster: string,
  env: Readonly<Record<string, string | undefined>>,
): RunLabels {
  const github = env.GITHUB_RUN_ID
    ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}`
    : undefined;
  const buildId = env.BUILD_ID || github;
  return { run_id: runId, ...(buildId ? { build_id: buildId } : {}), cluster };
}

/**
 * The entries of one line: one, or (for a line longer than {@link MAX_MESSAGE_BYTES} in UTF-8)
 * several with `split` set and the text cut at character boundaries. Severity DEFAULT: the
 * Kubernetes log API does not tell stdout from stderr. `uid` makes split ids unique.
 */
export function lineEntries(
  line: CloudLine,
  labels: RunLabels,
  nowMs: number,
  uid: string,
): CloudEntry[] {
  const parts = splitUtf8(line.text, MAX_MESSAGE_BYTES);
  const entryLabels: Record<string, string> = {
    ...labels,
    namespace: line.namespace,
    pod: line.pod,
    container: line.container,
    ...(line.job ? { job: line.job } : {}),
  };
  const timestamp = new Date(nowMs).toISOString();
  return parts.map((message, index) =>
    sized({
      severity: 'DEFAULT',
      timestamp,
      labels: entryLabels,
      jsonPayload: {
        message,
        pod: line.pod,
        container: line.container,
        job: line.job,
        namespace: line.namespace,
        seq: line.seq,
      },
      ...(parts.length > 1 ? { split: { uid, index, totalSplits: parts.length } } : {}),
    }),
  );
}

/**
 * The summary entry of one Job: severity INFO when it completed, ERROR otherwise, with the
 * outcome, reason, exit codes, attempts and duration (ms).
 */
export function summaryEntry(job: JobSummary, labels: RunLabels, nowMs: number): CloudEntry {
  return sized({
    severity: job.result === 'Complete' ? 'INFO' : 'ERROR',
    timestamp: new Date(nowMs).toISOString(),
    labels: { ...labels, namespace: job.namespace, job: job.name },
    jsonPayload: {
      message: `job/${job.name} ${job.result}${job.reason ? ` (${job.reason})` : ''}${job.explanation ? `: ${job.explanation}` : ''}`,
      job: job.name,
      namespace: job.namespace,
      outcome: job.result,
      reason: job.reason,
      exitCodes: job.exitCodes,
      attempts: job.attempts,
      durationMs: job.durationMs,
    },
  });
}

function sized(e: Omit<CloudEntry, 'bytes'>): CloudEntry {
  return { ...e, bytes: Buffer.byteLength(JSON.stringify(e)) };
}

/**
 * `text` cut into pieces of at most `maxBytes` UTF-8 bytes, never inside a character (nor a
 * surrogate pair); `['']` for an empty text.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (Buffer.byteLength(text) <= maxBytes) return [text];
  const parts: string[] = [];
  let part = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) {
      parts.push(part);
      part = '';
      bytes = 0;
    }
    part += ch;
    bytes += n;
  }
  parts.push(part);
  return parts;
}

/**
 * Takes entries from the front of `queue` for one request: at most {@link MAX_BATCH_ENTRIES}
 * and {@link MAX_BATCH_BYTES} (at least one entry). Returns the batch; `queue` keeps the rest.
 */
export function takeBatch(queue: CloudEntry[]): CloudEntry[] {
  let bytes = 0;
  let n = 0;
  while (n < queue.length && n < MAX_BATCH_ENTRIES) {
    const next = queue[n]!.bytes;
    if (n > 0 && bytes + next > MAX_BATCH_BYTES) break;
    bytes += next;
    n++;
  }
  return queue.splice(0, n);
}

/**
 * The Cloud Console link that opens the Logs Explorer with the query for this run,
 * `logName="projects/P/logs/NAME"` and `labels.run_id="ID"`, over the run's time range (a minute
 * either side of `fromMs`..`toMs`, epoch ms; the Explorer's default is the last hour only).
 * Source: https://cloud.google.com/logging/docs/view/building-queries#query-link
 */
export function consoleLink(
  project: string,
  logName: string,
  runId: string,
  fromMs: number,
  toMs: number,
): string {
  const query = `logName="projects/${project}/logs/${encodeURIComponent(logName)}"\nlabels.run_id="${runId}"`;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const range = `${iso(fromMs - 60_000)}/${iso(toMs + 60_000)}`;
  return `https://console.cloud.google.com/logs/query;query=${encodeURIComponent(query)};timeRange=${encodeURIComponent(range)}?project=${encodeURIComponent(project)}`;
}
