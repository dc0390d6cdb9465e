// Plain shapes of the Kubernetes objects kubestep reads, as the API server sends them in JSON
// (timestamps are RFC 3339 strings). Only the fields kubestep uses are listed.
// Source: https://kubernetes.io/docs/reference/kubernetes-api/

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** Bumped by the API server on every change of the spec. */
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  /** Seconds the object has to go once deletionTimestamp is set; 0: it went at once (no finalizers). */
  deletionGracePeriodSeconds?: number;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  /** Which field manager owns which fields. Source: https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management */
  managedFields?: { manager?: string; operation?: string; [k: string]: unknown }[];
}

/** Source: https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/ */
export interface OwnerReference {
  apiVersion?: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface Probe {
  periodSeconds?: number;
  failureThreshold?: number;
}

export interface ContainerSpec {
  name: string;
  readinessProbe?: Probe;
  image?: string;
  command?: string[];
  args?: string[];
  /** `File` (default) or `FallbackToLogsOnError`. */
  terminationMessagePolicy?: string;
  /** Init containers only: `Always` makes a native sidecar (Kubernetes 1.28+). */
  restartPolicy?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface PodSpec {
  restartPolicy?: string;
  initContainers?: ContainerSpec[];
  containers: ContainerSpec[];
  activeDeadlineSeconds?: number;
  nodeName?: string;
}

export interface PodTemplateSpec {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Job extends KubeObject {
  spec?: {
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    parallelism?: number;
    completions?: number;
    ttlSecondsAfterFinished?: number;
    selector?: LabelSelector;
    template?: PodTemplateSpec;
  };
  status?: {
    conditions?: JobCondition[];
    startTime?: string;
    completionTime?: string;
    active?: number;
    succeeded?: number;
    failed?: number;
  };
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  image?: string;
  containerID?: string;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface Pod extends KubeObject {
  spec?: PodSpec;
  status?: {
    phase?: string;
    reason?: string;
    message?: string;
    startTime?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

/** A label selector; only `matchLabels` is interpreted by kubestep. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: unknown[];
}

/** apps/v1 Deployment or StatefulSet: the fields readiness needs. */
export interface Workload extends KubeObject {
  metadata?: ObjectMeta & { generation?: number };
  spec?: {
    replicas?: number;
    selector?: LabelSelector;
    template?: PodTemplateSpec;
    volumeClaimTemplates?: unknown[];
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** v1 Service: the fields readiness needs. */
export interface Service extends KubeObject {
  spec?: { type?: string; selector?: Record<string, string>; clusterIP?: string };
}

/** v1 Endpoints of a Service. */
export interface Endpoints extends KubeObject {
  subsets?: { addresses?: { ip: string }[]; notReadyAddresses?: { ip: string }[] }[];
}

/** v1 Event (core/v1, as `kubectl describe` lists them). */
export interface KubeEvent extends KubeObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  /** Repeats of an event recorded through the events.k8s.io API (`series.count`). */
  series?: { count?: number; lastObservedTime?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string };
}

/** A list answer: its items and the resourceVersion to watch from. */
export interface ObjectList<T> {
  /** `JobList`, `PodList`: the items themselves carry no kind. */
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** The `Status` object the API server sends with errors and in watch ERROR events. */
export interface Status {
  kind?: 'Status';
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; retryAfterSeconds?: number };
}

/** One event of a watch stream. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}
