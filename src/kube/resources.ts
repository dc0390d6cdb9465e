// Where each kind of object lives in the API. Plain data, usable by pure modules.
// Source: https://kubernetes.io/docs/reference/kubernetes-api/

/** A kind of object: where its API lives. */
export interface Resource {
  /** `/api/v1` or `/apis/GROUP/VERSION`. */
  api: string;
  plural: string;
  /** Lower-case kind for messages and kubectl commands: `job/tests`. */
  kind: string;
}

/** batch/v1 Jobs. */
export const JOBS: Resource = { api: '/apis/batch/v1', plural: 'jobs', kind: 'job' };
/** v1 Pods. */
export const PODS: Resource = { api: '/api/v1', plural: 'pods', kind: 'pod' };
/** v1 Services. */
export const SERVICES: Resource = { api: '/api/v1', plural: 'services', kind: 'service' };
/** v1 Endpoints (one per Service, same name, same labels). */
export const ENDPOINTS: Resource = { api: '/api/v1', plural: 'endpoints', kind: 'endpoints' };
/** apps/v1 Deployments. */
export const DEPLOYMENTS: Resource = {
  api: '/apis/apps/v1',
  plural: 'deployments',
  kind: 'deployment',
};
/** apps/v1 StatefulSets. */
export const STATEFULSETS: Resource = {
  api: '/apis/apps/v1',
  plural: 'statefulsets',
  kind: 'statefulset',
};
/** apps/v1 ReplicaSets (a Deployment's revisions). */
export const REPLICASETS: Resource = {
  api: '/apis/apps/v1',
  plural: 'replicasets',
  kind: 'replicaset',
};
/** apps/v1 ControllerRevisions (a StatefulSet's or DaemonSet's revisions). */
export const CONTROLLERREVISIONS: Resource = {
  api: '/apis/apps/v1',
  plural: 'controllerrevisions',
  kind: 'controllerrevision',
};
/** v1 ConfigMaps. */
export const CONFIGMAPS: Resource = { api: '/api/v1', plural: 'configmaps', kind: 'configmap' };
/** v1 Secrets. */
export const SECRETS: Resource = { api: '/api/v1', plural: 'secrets', kind: 'secret' };
/** v1 Namespaces (cluster-scoped). */
export const NAMESPACES: Resource = { api: '/api/v1', plural: 'namespaces', kind: 'namespace' };
/** v1 Events (core events, as `kubectl describe` shows them). */
export const EVENTS: Resource = { api: '/api/v1', plural: 'events', kind: 'event' };

/**
 * The kinds kubestep creates (test and anchor Jobs, dependencies), in the order `down` and gc
 * delete them: Jobs first, so that the tests stop before what they use.
 */
export const MANAGED_KINDS: readonly Resource[] = [
  JOBS,
  DEPLOYMENTS,
  STATEFULSETS,
  PODS,
  SERVICES,
  CONFIGMAPS,
  SECRETS,
];
