// Kubernetes features a manifest uses, and the version from which a cluster has them on by
// default: what a dry run says a cluster lacks. Pure.

/** A feature a manifest uses: its name, the first Kubernetes minor version that has it on by default, and where. */
export interface UsedFeature {
  feature: string;
  /** `1.29`: beta and on by default from this version (alpha versions are not counted). */
  since: string;
  /** Where the manifest uses it: `spec.podFailurePolicy`. */
  at: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;

/**
 * Job fields by the version that turns them on. Sources: the Job and sidecar pages of
 * https://kubernetes.io/docs/concepts/workloads/controllers/job/ and
 * https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/ (feature state notes).
 */
const JOB_FIELDS: [field: string, feature: string, since: string][] = [
  ['ttlSecondsAfterFinished', 'the TTL controller for finished Jobs', '1.21'],
  ['suspend', 'suspended Jobs', '1.22'],
  ['podFailurePolicy', 'Pod failure policy', '1.26'],
  ['backoffLimitPerIndex', 'backoff limit per index', '1.29'],
  ['maxFailedIndexes', 'backoff limit per index', '1.29'],
  ['podReplacementPolicy', 'Pod replacement policy', '1.29'],
  ['successPolicy', 'Job success policy (SuccessCriteriaMet)', '1.31'],
  ['managedBy', 'delegation of Job management (managedBy)', '1.32'],
];

/**
 * The features of {@link JOB_FIELDS}, Indexed Jobs (`completionMode: Indexed`, 1.22) and native
 * sidecars (an init container with `restartPolicy: Always`, 1.29) that `object` uses, for a Job
 * or a Pod; nothing for other kinds.
 */
export function featuresUsed(object: unknown): UsedFeature[] {
  const o = obj(object);
  const spec = obj(o?.spec);
  if (!o || !spec) return [];
  const used: UsedFeature[] = [];
  let podSpec: Obj | undefined;
  if (o.kind === 'Job') {
    for (const [field, feature, since] of JOB_FIELDS)
      if (spec[field] !== undefined) used.push({ feature, since, at: `spec.${field}` });
    if (spec.completionMode === 'Indexed')
      used.push({ feature: 'Indexed Jobs', since: '1.22', at: 'spec.completionMode' });
    podSpec = obj(obj(spec.template)?.spec);
  } else if (o.kind === 'Pod') podSpec = spec;
  const inits = Array.isArray(podSpec?.initContainers) ? podSpec.initContainers : [];
  inits.forEach((c, i) => {
    if (obj(c)?.restartPolicy === 'Always')
      used.push({
        feature: 'native sidecars',
        since: '1.29',
        at: `${o.kind === 'Job' ? 'spec.template.spec' : 'spec'}.initContainers[${i}].restartPolicy`,
      });
  });
  return used;
}

/** `1.20` from `major` `1` and `minor` `20+` (as GET /version gives them); undefined if unreadable. */
export function minorVersion(major: string, minor: string): number | undefined {
  const m = Number.parseInt(minor, 10);
  return major === '1' && Number.isFinite(m) ? m : undefined;
}

/** The features of `used` that a cluster of minor version `minor` (`20` for 1.20) does not have on by default. */
export function lackedFeatures(used: readonly UsedFeature[], minor: number): UsedFeature[] {
  return used.filter((u) => Number(u.since.split('.')[1]) > minor);
}
