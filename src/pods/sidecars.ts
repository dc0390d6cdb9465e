// Sidecars: containers of a test pod that serve the others and never end on their own. Which
// containers are sidecars, and when a pod's result is its main containers'. Pure.
// Source: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
import type { ContainerSpec, Pod } from '../kube/types.js';

/**
 * The annotation (on the Job, or on its pod template) naming regular containers that are
 * sidecars: names separated by commas or spaces, e.g. `kubestep.dev/sidecars: "logshipper"`.
 */
export const SIDECARS_ANNOTATION = 'kubestep.dev/sidecars';

/** The container that `--artifacts` adds to test pods (artifacts/inject.ts): always a sidecar. */
export const COLLECTOR = 'kubestep-artifacts';

/** Whether `pod` carries kubestep's artifacts collector (was made with --artifacts or the like). */
export function hasCollector(pod: Pod): boolean {
  return pod.spec?.containers.some((c) => c.name === COLLECTOR) ?? false;
}

/**
 * Proxies that meshes and Google Cloud inject, or that users copy from their docs, recognised as
 * sidecars by name. Their shutdown endpoints (Istio's 15020 /quitquitquit, Linkerd's 4191
 * /shutdown, the Cloud SQL Auth Proxy's 9091 /quitquitquit) accept requests from inside the pod
 * only, so kubestep cannot use them: it ends the pod (see README "Sidecars").
 * Sources: istio/istio pkg/istio-agent/status/server.go `handleQuit` ("Only requests from
 * localhost are allowed"), https://github.com/linkerd/linkerd2-proxy/pull/811 (loopback only),
 * https://github.com/GoogleCloudPlatform/cloud-sql-proxy#--quitquitquit
 */
export const KNOWN_SIDECARS: ReadonlySet<string> = new Set([
  COLLECTOR,
  'istio-proxy',
  'linkerd-proxy',
  'cloud-sql-proxy',
  'cloudsql-proxy',
]);

/**
 * How long sidecars get to stop once their pod's main containers have ended, s: kubestep deletes
 * such pods with this grace period instead of their terminationGracePeriodSeconds (30 s by default;
 * a `tail -F` that ignores SIGTERM would hold the cleanup that long).
 */
export const SIDECAR_STOP_GRACE_S = 5;

/** True for a native sidecar: an init container with `restartPolicy: Always` (Kubernetes 1.28+). */
export function isNativeSidecar(c: Pick<ContainerSpec, 'restartPolicy'>): boolean {
  return c.restartPolicy === 'Always';
}

/** The names of the native sidecars of `pod` (its init containers with `restartPolicy: Always`). */
export function nativeSidecarsOf(pod: Pod): Set<string> {
  return new Set((pod.spec?.initContainers ?? []).filter(isNativeSidecar).map((c) => c.name));
}

/** The container names an annotation value lists (commas or white space between them). */
export function namesOf(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

/**
 * The regular containers of `pod` that are sidecars: those named in `named` (`--sidecar`), in the
 * {@link SIDECARS_ANNOTATION} of the pod (from its template) or of its Job (`jobAnnotations`),
 * and the {@link KNOWN_SIDECARS}. Native sidecars are init containers and not listed here.
 */
export function sidecarsOf(
  pod: Pod,
  named: readonly string[],
  jobAnnotations?: Record<string, string>,
): Set<string> {
  const wanted = new Set([
    ...named,
    ...namesOf(pod.metadata?.annotations?.[SIDECARS_ANNOTATION]),
    ...namesOf(jobAnnotations?.[SIDECARS_ANNOTATION]),
    ...KNOWN_SIDECARS,
  ]);
  return new Set((pod.spec?.containers ?? []).map((c) => c.name).filter((n) => wanted.has(n)));
}

/** A pod whose main containers have ended while sidecars still run. */
export interface MainsEnded {
  /** Every main container exited with code 0. */
  succeeded: boolean;
  /** The sidecars that have not terminated. */
  running: string[];
}

/**
 * When every regular container of `pod` that is not in `sidecars` has terminated and some sidecar
 * has not: the pod's result is its main containers' (`succeeded`). Undefined otherwise, for a pod
 * that ended or is being deleted, for a pod without main containers, and while a sidecar has never
 * run (`CreateContainerConfigError`, an image that cannot be pulled: a stuck pod). With `restartPolicy:
 * OnFailure` a main container that failed is restarted by the kubelet, so only exits with code 0
 * count as ended.
 */
export function mainsEnded(pod: Pod, sidecars: ReadonlySet<string>): MainsEnded | undefined {
  const phase = pod.status?.phase;
  if (sidecars.size === 0 || phase === 'Succeeded' || phase === 'Failed') return undefined;
  if (pod.metadata?.deletionTimestamp) return undefined;
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  const mains = names.filter((n) => !sidecars.has(n));
  if (mains.length === 0) return undefined;
  const exits: number[] = [];
  for (const n of mains) {
    const t = statuses.get(n)?.state?.terminated;
    if (!t) return undefined;
    exits.push(t.exitCode);
  }
  const succeeded = exits.every((c) => c === 0);
  if (!succeeded && pod.spec?.restartPolicy === 'OnFailure') return undefined;
  const running = names.filter((n) => sidecars.has(n) && !statuses.get(n)?.state?.terminated);
  // A sidecar that never ran (its image or config is broken) is the pod's problem, not an ended
  // test's: the stuck rules decide (the test may have run without its proxy).
  const neverRan = running.some((n) => {
    const st = statuses.get(n);
    return !st?.state?.running && !st?.lastState?.terminated && (st?.restartCount ?? 0) === 0;
  });
  return running.length > 0 && !neverRan ? { succeeded, running } : undefined;
}
