// Naming a GKE cluster: --gke-cluster, or the variables of Cloud Build's kubectl builder. Pure.
import { InputError } from '../core/errors.js';

/** A GKE cluster; `project` undefined: the credentials' project. */
export interface GkeClusterRef {
  project?: string | undefined;
  /** A region (`europe-west1`) or a zone (`europe-west1-b`). */
  location: string;
  cluster: string;
}

/** Which endpoint of the control plane to use. Source: https://cloud.google.com/kubernetes-engine/docs/concepts/network-isolation */
export type GkeEndpoint = 'public' | 'private' | 'dns';

/**
 * The cluster named by `--gke-cluster projects/P/locations/L/clusters/C`, else by Cloud Build's
 * kubectl builder variables (`CLOUDSDK_CONTAINER_CLUSTER` with `CLOUDSDK_COMPUTE_REGION` or
 * `CLOUDSDK_COMPUTE_ZONE`, project `CLOUDSDK_CORE_PROJECT`), else undefined. Throws InputError
 * for a malformed flag or a cluster variable without a location.
 * Source: https://github.com/GoogleCloudPlatform/cloud-builders/tree/master/kubectl
 */
export function gkeClusterRef(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): GkeClusterRef | undefined {
  if (flag !== undefined) {
    const m = /^projects\/([^/]+)\/(?:locations|zones)\/([^/]+)\/clusters\/([^/]+)$/.exec(flag);
    if (!m) {
      throw new InputError(
        `--gke-cluster ${JSON.stringify(flag)} is not projects/PROJECT/locations/LOCATION/clusters/NAME`,
      );
    }
    return { project: m[1], location: m[2]!, cluster: m[3]! };
  }
  const cluster = env.CLOUDSDK_CONTAINER_CLUSTER;
  if (!cluster) return undefined;
  const location = env.CLOUDSDK_COMPUTE_REGION || env.CLOUDSDK_COMPUTE_ZONE;
  if (!location) {
    throw new InputError(
      `CLOUDSDK_CONTAINER_CLUSTER=${cluster} needs its location: set CLOUDSDK_COMPUTE_REGION or CLOUDSDK_COMPUTE_ZONE (or pass --gke-cluster projects/P/locations/L/clusters/C)`,
    );
  }
  return { project: env.CLOUDSDK_CORE_PROJECT || undefined, location, cluster };
}
