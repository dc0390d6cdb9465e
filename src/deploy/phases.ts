// The order in which `deploy` applies objects: phases, each finished (its Jobs Complete, its
// rollouts done) before the next one changes anything. Pure.
import type { KubeObject } from '../kube/types.js';
import { ROLLOUT_KINDS } from './rollout.js';

/** The phases, in order. */
export const PHASES = ['config', 'jobs', 'workloads', 'rest'] as const;
export type Phase = (typeof PHASES)[number];

/** The annotation that moves an object to another phase. */
export const PHASE_ANNOTATION = 'kubestep.dev/deploy-phase';

/** Kinds of the first phase: what workloads and migrations use. Source: the order `helm install` uses. */
const CONFIG_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'Role',
  'RoleBinding',
  'Service',
]);

/** Whether kubestep waits for the rollout of this kind (Deployment, StatefulSet, DaemonSet). */
export const isWorkload = (o: KubeObject) =>
  (ROLLOUT_KINDS as readonly string[]).includes(o.kind ?? '');

/**
 * The phase of an object: its `kubestep.dev/deploy-phase` annotation, else by kind: `config`
 * (ServiceAccounts, Secrets, ConfigMaps, PVCs, Roles, RoleBindings, Services), `jobs` (Jobs:
 * migrations), `workloads` (Deployments, StatefulSets, DaemonSets), `rest` (everything else).
 * An annotation that names no phase gives the kind's phase ({@link phaseProblem} reports it).
 */
export function phaseOf(o: KubeObject): Phase {
  const a = o.metadata?.annotations?.[PHASE_ANNOTATION];
  if ((PHASES as readonly string[]).includes(a ?? '')) return a as Phase;
  if (CONFIG_KINDS.has(o.kind ?? '')) return 'config';
  if (o.kind === 'Job') return 'jobs';
  return isWorkload(o) ? 'workloads' : 'rest';
}

/** What is wrong with an object's phase annotation, or undefined. */
export function phaseProblem(o: KubeObject): string | undefined {
  const a = o.metadata?.annotations?.[PHASE_ANNOTATION];
  if (a === undefined || (PHASES as readonly string[]).includes(a)) return undefined;
  return `annotation ${PHASE_ANNOTATION} is ${JSON.stringify(a)}: it takes ${PHASES.join(', ')}`;
}
