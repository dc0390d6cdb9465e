// What happened to each Job and its pods, in words people read. Pure.
import { jobState } from '../jobs/status.js';
import type { ContainerStatus, Job, Pod } from '../kube/types.js';

/** How a Job ended, as far as kubestep knows. */
export type JobResult = 'Complete' | 'Failed' | 'Running' | 'NotCreated';

/** One container of a pod, as the summary shows it. */
export interface ContainerSummary {
  name: string;
  init: boolean;
  /** e.g. `exit 0`, `exit 137 (OOMKilled)`, `waiting: ImagePullBackOff`, `running`. */
  state: string;
  exitCode?: number;
  reason?: string;
  restarts: number;
}

/** One pod (attempt) of a Job. */
export interface PodSummary {
  name: string;
  phase: string;
  /** Pod-level reason, e.g. `DeadlineExceeded`, `Evicted`. */
  reason?: string;
  containers: ContainerSummary[];
}

/** One Job's result for the summary and the exit code. */
export interface JobSummary {
  name: string;
  namespace: string;
  result: JobResult;
  /** The terminal condition's reason, e.g. `BackoffLimitExceeded`, `DeadlineExceeded`. */
  reason?: string;
  message?: string;
  durationMs?: number;
  pods: PodSummary[];
}

/**
 * Summarizes a Job from its last seen state and its pods (oldest first). Duration runs from the
 * Job's `status.startTime` to its terminal condition, else from `startedAtMs` to `nowMs`.
 */
export function summarizeJob(
  name: string,
  namespace: string,
  job: Job | undefined,
  pods: readonly Pod[],
  times: { startedAtMs?: number; nowMs: number },
): JobSummary {
  const state = job ? jobState(job) : undefined;
  const result: JobResult = !job
    ? 'NotCreated'
    : state!.phase === 'complete'
      ? 'Complete'
      : state!.phase === 'failed'
        ? 'Failed'
        : 'Running';
  const start = parseTime(job?.status?.startTime) ?? times.startedAtMs;
  const end =
    state && state.phase !== 'running' ? (parseTime(state.at) ?? times.nowMs) : times.nowMs;
  const summary: JobSummary = {
    name,
    namespace,
    result,
    pods: [...pods].sort(byCreation).map(summarizePod),
  };
  if (state && state.phase !== 'running') {
    if (state.reason) summary.reason = state.reason;
    if (state.message) summary.message = state.message;
  }
  if (start !== undefined) summary.durationMs = Math.max(0, end - start);
  return summary;
}

function byCreation(a: Pod, b: Pod): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  return ta < tb
    ? -1
    : ta > tb
      ? 1
      : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** One pod's containers with exit codes and reasons. */
export function summarizePod(pod: Pod): PodSummary {
  const statuses = new Map<string, [ContainerStatus, boolean]>();
  for (const s of pod.status?.initContainerStatuses ?? []) statuses.set(s.name, [s, true]);
  for (const s of pod.status?.containerStatuses ?? []) statuses.set(s.name, [s, false]);
  const names: [string, boolean][] = [
    ...(pod.spec?.initContainers ?? []).map((c): [string, boolean] => [c.name, true]),
    ...(pod.spec?.containers ?? []).map((c): [string, boolean] => [c.name, false]),
  ];
  const containers = names.map(([name, init]) => {
    const s = statuses.get(name)?.[0];
    return summarizeContainer(name, init, s);
  });
  const out: PodSummary = {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase ?? 'Unknown',
    containers,
  };
  if (pod.status?.reason) out.reason = pod.status.reason;
  return out;
}

function summarizeContainer(
  name: string,
  init: boolean,
  s: ContainerStatus | undefined,
): ContainerSummary {
  const restarts = s?.restartCount ?? 0;
  const t = s?.state?.terminated;
  if (t) {
    const reason =
      t.reason && t.reason !== 'Completed' && t.reason !== 'Error' ? t.reason : undefined;
    const signal = t.signal ? `, signal ${t.signal}` : '';
    const c: ContainerSummary = {
      name,
      init,
      state: `exit ${t.exitCode}${reason ? ` (${reason}${signal})` : signal ? ` (${signal.slice(2)})` : ''}`,
      exitCode: t.exitCode,
      restarts,
    };
    if (t.reason) c.reason = t.reason;
    return c;
  }
  const w = s?.state?.waiting;
  if (w) {
    const c: ContainerSummary = {
      name,
      init,
      state: `waiting: ${w.reason ?? 'unknown'}`,
      restarts,
    };
    if (w.reason) c.reason = w.reason;
    return c;
  }
  if (s?.state?.running) return { name, init, state: 'running', restarts };
  return { name, init, state: 'not started', restarts };
}

/** `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/**
 * The summary printed at the end of a run: per Job its result, reason, duration and attempts,
 * and per pod its containers' exit codes and reasons.
 */
export function formatSummary(jobs: readonly JobSummary[]): string[] {
  const lines: string[] = [];
  const width = Math.max(...jobs.map((j) => j.name.length + 4), 8);
  for (const j of jobs) {
    const parts = [`job/${j.name}`.padEnd(width), j.result.padEnd(8)];
    if (j.durationMs !== undefined) parts.push(formatDuration(j.durationMs).padStart(9));
    if (j.pods.length > 0) parts.push(`${j.pods.length} ${j.pods.length === 1 ? 'pod' : 'pods'}`);
    if (j.reason) parts.push(j.reason);
    lines.push(parts.join('  ').trimEnd());
    if (j.message && j.result === 'Failed') lines.push(`    ${j.message}`);
    for (const p of j.pods) {
      const containers = p.containers
        .map(
          (c) =>
            `${c.init ? 'init ' : ''}${c.name}: ${c.state}${c.restarts ? `, ${c.restarts} restarts` : ''}`,
        )
        .join('; ');
      lines.push(
        `    pod/${p.name}  ${p.phase}${p.reason ? ` (${p.reason})` : ''}  ${containers}`.trimEnd(),
      );
    }
  }
  return lines;
}

function parseTime(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}
