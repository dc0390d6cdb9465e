// --cloud-logging for `run` and `wait`: mirrored lines and Job results also into Google Cloud
// Logging. Wiring only: entries are built in gcp/cloud-entries.ts, written by gcp/cloud-logging.ts.
import { messageOf } from '../core/errors.js';
import { redactDeep } from '../report/secrets.js';
import type { CloudLog } from '../gcp/cloud-logging.js';
import { runLabels } from '../gcp/cloud-entries.js';
import type { LogSource, Output } from '../core/output.js';
import type { JobSummary } from '../core/outcome.js';

/** The Cloud Logging flags. */
export interface CloudFlags {
  /** --cloud-logging: the log's name ('' given alone: `kubestep`); undefined: off. */
  cloudLogging?: string | undefined;
  /** --project; default: the credentials' project. */
  project?: string | undefined;
}

/** A started Cloud Logging mirror: `finish` writes the summaries and flushes. */
export interface CloudRun {
  /** Queues one summary entry per Job (if any), flushes within `graceMs`, reports the link. */
  finish(jobs: readonly JobSummary[] | undefined, graceMs: number): Promise<void>;
}

/**
 * Starts mirroring `out.logs` into Cloud Logging when --cloud-logging is given: `out.logs` is
 * replaced by a tee that also queues each line (secrets hidden by `redact`). Returns undefined
 * when off, or when there are no credentials (a warning; the run goes on).
 */
export async function startCloudLogging(
  flags: CloudFlags,
  out: Output,
  ctx: {
    runId: string;
    cluster: string;
    env: Readonly<Record<string, string | undefined>>;
    redact: (text: string) => string;
  },
): Promise<CloudRun | undefined> {
  if (flags.cloudLogging === undefined) return undefined;
  const logName = flags.cloudLogging || 'kubestep';
  let cloud: CloudLog | undefined;
  try {
    const { openCloudLog } = await import('../gcp/cloud-logging.js');
    cloud = await openCloudLog(
      {
        logName,
        project: flags.project,
        labels: runLabels(ctx.runId, ctx.cluster, ctx.env),
        env: ctx.env,
        now: Date.now,
      },
      out,
    );
  } catch (err) {
    out.warn(`--cloud-logging is off: ${messageOf(err)}. The run goes on.`);
  }
  if (!cloud) return undefined;
  const sink = cloud;
  const console = out.logs;
  const seq = new Map<string, number>();
  out.logs = {
    write(source: LogSource, lines: string[]) {
      const key = `${source.namespace}/${source.pod}/${source.container}`;
      let n = seq.get(key) ?? 0;
      // Names too: a secret can be part of a Job's (and so its pods') name.
      const hidden = redactDeep(source, ctx.redact);
      for (const l of lines) {
        sink.line({ ...hidden, text: ctx.redact(l), seq: ++n });
      }
      seq.set(key, n);
      return console.write(source, lines);
    },
    note: (source, message) => console.note(source, message),
    debug: (source, message) => console.debug(source, message),
  };
  return {
    async finish(jobs, graceMs) {
      if (jobs?.length) sink.summaries(redactDeep(jobs, ctx.redact));
      const r = await sink.close(Date.now() + graceMs);
      out.info(`cloud logging: ${r.written} entries in log ${logName}; the run's query: ${r.link}`);
      if (r.undelivered > 0) {
        out.warn(
          `cloud logging: ${r.undelivered} entries could not be written (not a test failure); the CI log above has every line`,
        );
      }
    },
  };
}
