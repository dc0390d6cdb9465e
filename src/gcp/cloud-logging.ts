// Mirrored log lines and Job results into Google Cloud Logging. Adapter: the only module that
// imports @google-cloud/logging. Best effort: nothing here may fail a run.
import type { Entry, Log, LoggingOptions } from '@google-cloud/logging';
import { GoogleAuth } from 'google-auth-library';
import pRetry from 'p-retry';
import { messageOf } from '../core/errors.js';
import {
  consoleLink,
  lineEntries,
  summaryEntry,
  takeBatch,
  type CloudEntry,
  type CloudLine,
  type RunLabels,
} from './cloud-entries.js';
import type { JobSummary } from '../core/outcome.js';

/** Options of {@link openCloudLog}. */
export interface CloudLogOptions {
  /** The log's name (`kubestep`): `projects/P/logs/NAME`. */
  logName: string;
  /** --project; default: the credentials' project. */
  project?: string | undefined;
  labels: RunLabels;
  env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since the epoch. */
  now: () => number;
}

/** What a run reports to Cloud Logging. */
export interface CloudLog {
  /** Queues one line (never blocks, never throws). */
  line(line: CloudLine): void;
  /** Queues one summary entry per Job. */
  summaries(jobs: readonly JobSummary[]): void;
  /**
   * Writes what is queued, waiting at most until `deadlineMs` (epoch); returns how many entries
   * were written and how many were not, and the Console link of the run's query.
   */
  close(deadlineMs: number): Promise<{ written: number; undelivered: number; link: string }>;
}

/** The output Cloud Logging reports to: warnings only. */
export interface CloudOut {
  warn(message: string): void;
  debug(message: string): void;
}

/** Queued entries beyond this many bytes are dropped (and counted): memory stays bounded. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** How often queued entries are written, ms. */
const FLUSH_EVERY_MS = 1_000;
/** Write at once when this much is queued, bytes. */
const FLUSH_AT_BYTES = 1024 * 1024;
/** gRPC codes worth retrying: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (429), INTERNAL, UNAVAILABLE. */
const RETRY_CODES = new Set([4, 8, 13, 14]);

/**
 * Opens the run's log in Cloud Logging: finds credentials (Application Default Credentials) and
 * the project first, so that missing credentials are a warning (returns undefined) before any
 * write, never an unhandled rejection. Entries go out in batches (≤ 1000 entries, ≤ 8 MB) every
 * second, one request at a time, in order; a failed write is retried with backoff on 429, 5xx,
 * timeouts and network errors for up to a minute, then its entries count as undelivered.
 * `KUBESTEP_LOGGING_API_ENDPOINT` (`http[s]://HOST:PORT`) replaces logging.googleapis.com (tests).
 * Source: https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/write
 */
export async function openCloudLog(
  opts: CloudLogOptions,
  out: CloudOut,
): Promise<CloudLog | undefined> {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/logging.write'] });
  let project: string;
  try {
    await auth.getAccessToken();
    project = opts.project ?? (await auth.getProjectId());
  } catch (err) {
    out.warn(
      `--cloud-logging is off: no Google credentials (${messageOf(err)}); set GOOGLE_APPLICATION_CREDENTIALS or run where a metadata server gives them. The run goes on.`,
    );
    return undefined;
  }
  // The library writes a diagnostic entry with its version into the first batch unless told
  // that it did so already (a process-wide flag of @google-cloud/logging).
  (globalThis as { instrumentationAdded?: boolean }).instrumentationAdded = true;
  // fallback: the REST transport (HTTP/1.1 + JSON) of google-gax, not gRPC.
  const options: LoggingOptions & { fallback: boolean } = {
    projectId: project,
    auth,
    fallback: true,
    ...endpoint(opts.env),
  };
  // Loaded only now: its chunk of the bundle (google-gax, protobufjs, the API's protos) is the
  // biggest, and only --cloud-logging needs it.
  const mod = await import('@google-cloud/logging');
  // A CommonJS module in its own chunk of the bundle has only a default export.
  const Logging = (mod.Logging as typeof mod.Logging | undefined) ?? mod.default.Logging;
  const logging = new Logging(options);
  const log = logging.log(opts.logName);
  return new Sink(log, project, opts, out);
}

/** `apiEndpoint`, `port` and `protocol` for the library from KUBESTEP_LOGGING_API_ENDPOINT. */
function endpoint(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const raw = env.KUBESTEP_LOGGING_API_ENDPOINT;
  if (!raw) return {};
  const url = new URL(raw);
  return {
    apiEndpoint: url.hostname,
    port: Number(url.port) || (url.protocol === 'http:' ? 80 : 443),
    protocol: url.protocol.replace(':', ''),
  };
}

class Sink implements CloudLog {
  private queue: CloudEntry[] = [];
  private queuedBytes = 0;
  private written = 0;
  private undelivered = 0;
  private pumping: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private splits = 0;
  private closing = false;
  /** Entries of the batch being written. */
  private inFlight = 0;
  /** Set when close() stops waiting: what is still in flight is counted as undelivered then. */
  private abandoned = false;
  private warned = false;
  private readonly openedMs: number;

  constructor(
    private readonly log: Log,
    private readonly project: string,
    private readonly opts: CloudLogOptions,
    private readonly out: CloudOut,
  ) {
    this.openedMs = opts.now();
    this.timer = setInterval(() => void this.pump(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  line(line: CloudLine): void {
    this.push(
      lineEntries(
        line,
        this.opts.labels,
        this.opts.now(),
        `${this.opts.labels.run_id}-${++this.splits}`,
      ),
    );
  }

  summaries(jobs: readonly JobSummary[]): void {
    this.push(jobs.map((j) => summaryEntry(j, this.opts.labels, this.opts.now())));
  }

  async close(deadlineMs: number): Promise<{ written: number; undelivered: number; link: string }> {
    this.closing = true;
    clearInterval(this.timer);
    const drained = (async () => {
      while (this.queue.length > 0 || this.pumping) await this.pump();
    })();
    const wait = Math.max(0, deadlineMs - this.opts.now());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, wait)))]);
    clearTimeout(timer);
    // Whatever is still queued or in flight now is not waited for.
    this.abandoned = true;
    this.undelivered += this.queue.length + this.inFlight;
    this.queue = [];
    return {
      written: this.written,
      undelivered: this.undelivered,
      link: consoleLink(
        this.project,
        this.opts.logName,
        this.opts.labels.run_id,
        this.openedMs,
        this.opts.now(),
      ),
    };
  }

  private push(entries: CloudEntry[]): void {
    for (const e of entries) {
      if (this.queuedBytes + e.bytes > MAX_QUEUED_BYTES) {
        this.undelivered++;
        continue;
      }
      this.queue.push(e);
      this.queuedBytes += e.bytes;
    }
    if (this.queuedBytes >= FLUSH_AT_BYTES) void this.pump();
  }

  /** Writes batches until the queue is empty; one writer at a time. */
  private pump(): Promise<void> {
    if (this.pumping) return this.pumping;
    if (this.queue.length === 0) return Promise.resolve();
    // Assigned before the loop's first await, cleared after the last: never left set.
    const run = async (): Promise<void> => {
      while (this.queue.length > 0) {
        const batch = takeBatch(this.queue);
        for (const e of batch) this.queuedBytes -= e.bytes;
        await this.write(batch);
      }
    };
    this.pumping = run().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async write(batch: CloudEntry[]): Promise<void> {
    const entries: Entry[] = batch.map(({ jsonPayload, bytes: _bytes, ...meta }) =>
      this.log.entry({ ...meta, resource: { type: 'global' } }, jsonPayload),
    );
    this.inFlight = batch.length;
    try {
      await pRetry(
        () =>
          this.log.write(entries, {
            resource: { type: 'global' },
            partialSuccess: true,
            gaxOptions: { retry: null, timeout: 30_000 },
          }),
        {
          retries: 1000,
          minTimeout: 500,
          maxTimeout: 10_000,
          randomize: true,
          maxRetryTime: this.closing ? 10_000 : 60_000,
          shouldRetry: ({ error }) => !this.abandoned && isRetryable(error),
          onFailedAttempt: ({ error, retryDelay }) => {
            if (!this.abandoned) {
              this.out.debug(
                `cloud logging: write failed (${messageOf(error)}); retrying in ${retryDelay} ms`,
              );
            }
          },
        },
      );
      if (!this.abandoned) this.written += batch.length;
    } catch (err) {
      if (this.abandoned) return;
      this.undelivered += batch.length;
      if (!this.warned) {
        this.warned = true;
        this.out.warn(`cloud logging: could not write ${batch.length} entries: ${messageOf(err)}`);
      }
    } finally {
      this.inFlight = 0;
    }
  }
}

/** True for errors worth another try: retryable gRPC codes, and network errors (no code). */
function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'number') return RETRY_CODES.has(code);
  return true;
}
