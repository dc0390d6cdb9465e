// GKE cluster access without gcloud: Application Default Credentials give a token, the GKE API
// gives the endpoint and CA. Adapter: the only module (with gcp/cloud-logging.ts) that imports
// google-auth-library.
import { GoogleAuth } from 'google-auth-library';
import { InfraError, InputError, messageOf } from '../core/errors.js';
import type { ServerSpec, TokenSource } from './token-access.js';
import type { GkeClusterRef, GkeEndpoint } from './gke-ref.js';

/** Where the GKE API is; `KUBESTEP_GKE_API_ENDPOINT` replaces it (tests, restricted networks). */
export const GKE_API = 'https://container.googleapis.com';

/** The parts of a GKE `Cluster` that kubestep reads. Source: https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters */
interface GkeCluster {
  endpoint?: string;
  masterAuth?: { clusterCaCertificate?: string };
  privateClusterConfig?: { privateEndpoint?: string };
  controlPlaneEndpointsConfig?: { dnsEndpointConfig?: { endpoint?: string } };
}

/**
 * Gets a token from Application Default Credentials (the metadata server on Cloud Build and GKE,
 * `GOOGLE_APPLICATION_CREDENTIALS` elsewhere; scope cloud-platform), reads the cluster from the
 * GKE API (`clusters.get`) and returns its endpoint of kind `endpoint` with the CA, and a token
 * source that refreshes the token before it expires. The project, when `ref` has none, is the
 * credentials'. Throws InputError for missing credentials or an unknown cluster (exit 2),
 * InfraError when the GKE API fails or refuses (exit 3).
 * Source: https://cloud.google.com/docs/authentication/application-default-credentials
 */
export async function gkeAccess(
  ref: GkeClusterRef,
  endpoint: GkeEndpoint,
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal,
): Promise<{ spec: ServerSpec; token: TokenSource; name: string }> {
  const auth = new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const token: TokenSource = async () => {
    const t = await auth.getAccessToken();
    if (!t) throw new InfraError('Application Default Credentials gave no access token');
    return t;
  };
  let first: string;
  let project = ref.project;
  try {
    first = await token();
    project ??= (await auth.getProjectId()) ?? undefined;
  } catch (err) {
    throw new InputError(
      `no Google credentials for the GKE cluster: ${messageOf(err)}. On Cloud Build and GKE they come from the metadata server; elsewhere set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or run gcloud auth application-default login)`,
      { cause: err },
    );
  }
  if (!project) {
    throw new InputError(
      'the GKE cluster names no project and the credentials have none: give projects/P/locations/L/clusters/C',
    );
  }
  const name = `projects/${project}/locations/${ref.location}/clusters/${ref.cluster}`;
  const base = (env.KUBESTEP_GKE_API_ENDPOINT ?? GKE_API).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/v1/${name}`, {
      headers: { authorization: `Bearer ${first}`, accept: 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
    });
  } catch (err) {
    throw new InfraError(`GKE API (${base}) unreachable: ${messageOf(err)}`, { cause: err });
  }
  const body = await res.text();
  if (res.status === 404) {
    throw new InputError(
      `GKE cluster ${name} does not exist: check the project, location (region or zone) and name`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    throw new InfraError(
      `the GKE API refuses to read ${name} (HTTP ${res.status}): give the credentials' service account roles/container.developer (or at least container.clusters.get) on the project`,
    );
  }
  if (!res.ok)
    throw new InfraError(
      `GKE API: clusters.get ${name} answered HTTP ${res.status}: ${body.slice(0, 200)}`,
    );
  const cluster = JSON.parse(body) as GkeCluster;
  const ca = cluster.masterAuth?.clusterCaCertificate;
  const host =
    endpoint === 'dns'
      ? cluster.controlPlaneEndpointsConfig?.dnsEndpointConfig?.endpoint
      : endpoint === 'private'
        ? cluster.privateClusterConfig?.privateEndpoint
        : cluster.endpoint;
  if (!host) {
    throw new InputError(
      `GKE cluster ${name} has no ${endpoint} endpoint: choose another with --gke-endpoint public|private|dns`,
    );
  }
  // The DNS endpoint has a publicly trusted certificate; the IP endpoints the cluster's CA.
  return {
    spec: { server: `https://${host}`, caData: endpoint === 'dns' ? undefined : ca },
    token,
    name,
  };
}
