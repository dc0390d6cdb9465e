// Making a test Job collect artifacts (`--artifacts`): an emptyDir at ARTIFACTS_DIR in every
// container, `ARTIFACTS` pointing at it (Prow's convention), and a collector container that sends
// the directory through its log when kubestep stops it. Pure.
// Source: https://docs.prow.k8s.io/docs/jobs/#job-environment-variables (ARTIFACTS)
import type { Job, Pod } from '../kube/types.js';

/** Where the artifacts volume is mounted in every container of the pod. */
export const ARTIFACTS_DIR = '/kubestep/artifacts';
export { COLLECTOR } from '../pods/sidecars.js';
import { OUTPUT_FILE } from './outputs.js';
import { JUNIT_MOUNTS, type JUnitPattern } from './junit.js';
import { COLLECTOR } from '../pods/sidecars.js';
const VOLUME = 'kubestep-artifacts';

/** The port the collector serves the artifacts on, inside the pod (the direct path). */
export const COLLECTOR_PORT = 47301;
/** The collector's environment variable holding the token its requests must carry. */
export const TOKEN_ENV = 'KUBESTEP_COLLECTOR_TOKEN';
/** The request header carrying that token (lower case, as node:http gives headers). */
export const TOKEN_HEADER = 'x-kubestep-token';

/** How the collector runs. */
export interface CollectorOptions {
  /** An image of kubestep itself (its entrypoint runs kubestep). */
  image: string;
  /** After this long the collector sends what there is and ends by itself (kubestep was killed), s. */
  deadlineSeconds: number;
  /**
   * A secret of the run that requests to the collector's port must carry (other pods can reach
   * the pod's IP); random, e.g. 16 bytes in hex.
   */
  token: string;
  /**
   * `--outputs` or `--junit` without `--artifacts`: the collector sends just the `$KUBESTEP_OUTPUT`
   * file and the `--junit` directories, and `ARTIFACTS` is not set.
   */
  withoutArtifacts?: boolean | undefined;
  /** `--junit` patterns: the directory of each absolute one is mounted in the test containers. */
  junit?: readonly JUnitPattern[] | undefined;
}

type Obj = Record<string, unknown>;

/** The collector's user when neither the pod nor a test container names one: distroless' nonroot. */
export const COLLECTOR_UID = 65532;

/**
 * The collector's securityContext: what Pod Security Standards' `restricted` profile asks (no
 * privilege escalation, no capabilities, non-root, RuntimeDefault seccomp) plus a read-only root
 * file system. Its user: the pod's `runAsUser` if set (inherited), else the first test
 * container's (so that it can read what the tests write), else COLLECTOR_UID; never root.
 * Source: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
function collectorSecurity(pod: Obj, containers: readonly Obj[]): Obj {
  const uidOf = (o: unknown) =>
    (o as { securityContext?: { runAsUser?: unknown } } | undefined)?.securityContext?.runAsUser;
  const own = containers.map(uidOf).find((u) => typeof u === 'number' && u > 0);
  const podUid = uidOf({ securityContext: pod.securityContext });
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    ...(typeof podUid === 'number' && podUid > 0 ? {} : { runAsUser: own ?? COLLECTOR_UID }),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * A copy of `job` whose pod template has the artifacts volume mounted at {@link ARTIFACTS_DIR} in
 * every container and init container, with `ARTIFACTS` set (unless a container sets it itself),
 * and the collector container (`kubestep collect-artifacts`, small requests, serving on
 * {@link COLLECTOR_PORT} to requests with `opts.token`); the directory of each absolute `--junit`
 * pattern is mounted from the same volume (at `JUNIT_MOUNTS/<index>`) in every container (not the
 * init containers). Nothing else changes; without `--artifacts`, `--outputs` and `--junit`
 * kubestep does not call this.
 */
export function withArtifacts(job: Job, opts: CollectorOptions): Job {
  const out = structuredClone(job) as unknown as { spec: { template: { spec: Obj } } };
  const pod = out.spec.template.spec;
  const mount = { name: VOLUME, mountPath: ARTIFACTS_DIR };
  const reportMounts = (opts.junit ?? []).flatMap((p, i) =>
    p.dir === undefined
      ? []
      : [{ name: VOLUME, mountPath: p.dir, subPath: `${JUNIT_MOUNTS}/${i}` }],
  );
  const equip = (c: Obj, reports: Obj[] = []): Obj => {
    const env = Array.isArray(c.env) ? (c.env as Obj[]) : [];
    const mounts = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Obj[]) : [];
    const own = (name: string) => env.some((e) => e.name === name);
    return {
      ...c,
      env: [
        ...env,
        ...(own('ARTIFACTS') || opts.withoutArtifacts
          ? []
          : [{ name: 'ARTIFACTS', value: ARTIFACTS_DIR }]),
        ...(own('KUBESTEP_OUTPUT')
          ? []
          : [{ name: 'KUBESTEP_OUTPUT', value: `${ARTIFACTS_DIR}/${OUTPUT_FILE}` }]),
      ],
      volumeMounts: [...mounts, mount, ...reports],
    };
  };
  const containers = (pod.containers as Obj[]).map((c) => equip(c, reportMounts));
  if (Array.isArray(pod.initContainers))
    pod.initContainers = (pod.initContainers as Obj[]).map((c) => equip(c));
  pod.containers = [
    ...containers,
    {
      name: COLLECTOR,
      image: opts.image,
      imagePullPolicy: 'IfNotPresent',
      args: [
        'collect-artifacts',
        '--dir',
        ARTIFACTS_DIR,
        '--deadline',
        String(opts.deadlineSeconds),
        '--port',
        String(COLLECTOR_PORT),
        ...(opts.withoutArtifacts ? ['--only', OUTPUT_FILE, '--only', JUNIT_MOUNTS] : []),
      ],
      env: [{ name: TOKEN_ENV, value: opts.token }],
      securityContext: collectorSecurity(pod, containers),
      volumeMounts: [{ ...mount, readOnly: true }],
      resources: { requests: { cpu: '10m', memory: '48Mi' } },
    },
  ];
  pod.volumes = [
    ...(Array.isArray(pod.volumes) ? (pod.volumes as Obj[]) : []),
    { name: VOLUME, emptyDir: {} },
  ];
  return out as unknown as Job;
}

/**
 * Where the collector of `pod` serves (`--port` of its arguments) and the token its requests
 * carry, as {@link withArtifacts} wrote them; undefined for a pod without a collector, or one
 * made by a kubestep without the direct path (no `--port`), or without a token.
 */
export function collectorEndpoint(pod: Pod): { port: number; token: string } | undefined {
  const collector = pod.spec?.containers.find((c) => c.name === COLLECTOR) as
    { args?: string[]; env?: { name: string; value?: string }[] } | undefined;
  const args = collector?.args ?? [];
  const at = args.indexOf('--port');
  const port = Number(args[at + 1]);
  const token = collector?.env?.find((e) => e.name === TOKEN_ENV)?.value;
  return at >= 0 && Number.isInteger(port) && token ? { port, token } : undefined;
}
