// Flags of every command that talks to the cluster: declaration, default, validation and mapping
// to typed options in one place.
import type { Argv } from 'yargs';
import { UsageError } from '../../core/errors.js';
import { dnsLabelProblem } from '../../manifests/names.js';
import { parseDurationMs } from '../duration.js';

/** Declares --kubeconfig, --context, -n, --server and its token and CA, GKE, --grace, --api-timeout, -v. */
export function clusterFlags<T>(y: Argv<T>) {
  return y
    .option('kubeconfig', {
      type: 'string',
      requiresArg: true,
      describe: 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    })
    .option('context', {
      type: 'string',
      requiresArg: true,
      describe: 'kubeconfig context',
    })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      requiresArg: true,
      describe: "namespace for objects that name none (default: the context's, else default)",
      coerce: (ns: string) => {
        const problem = dnsLabelProblem(ns);
        if (problem) throw new UsageError(`--namespace ${JSON.stringify(ns)} ${problem}`);
        return ns;
      },
    })
    .option('server', {
      type: 'string',
      requiresArg: true,
      describe:
        'the API server (https://HOST[:PORT]) instead of a kubeconfig, with --token-file or KUBESTEP_TOKEN',
    })
    .option('token-env', {
      type: 'string',
      requiresArg: true,
      describe:
        'the environment variable that holds the bearer token for --server (default KUBESTEP_TOKEN; e.g. one Secret Manager secret per environment in Cloud Build)',
    })
    .option('token-file', {
      type: 'string',
      requiresArg: true,
      describe: 'file with the bearer token for --server (read again every minute)',
    })
    .option('certificate-authority', {
      type: 'string',
      requiresArg: true,
      describe: "PEM file of --server's CA (default: the system's roots)",
    })
    .option('certificate-authority-data', {
      type: 'string',
      requiresArg: true,
      describe: "--server's CA as base64 PEM, as in a kubeconfig",
    })
    .option('gke-cluster', {
      type: 'string',
      requiresArg: true,
      describe:
        'projects/P/locations/L/clusters/C: a GKE cluster through Application Default Credentials, no gcloud (default: CLOUDSDK_CONTAINER_CLUSTER with CLOUDSDK_COMPUTE_REGION/ZONE when no kubeconfig is given)',
    })
    .option('gke-endpoint', {
      choices: ['public', 'private', 'dns'] as const,
      default: 'public' as const,
      describe: "which endpoint of the GKE cluster's control plane to use",
    })
    .option('grace', {
      type: 'string',
      default: '30s',
      requiresArg: true,
      describe: 'how long deleting objects may take before kubestep gives up waiting',
    })
    .option('api-timeout', {
      type: 'string',
      default: '60s',
      requiresArg: true,
      describe:
        'how long to retry an API server that fails (network, 429, 5xx) before giving up with exit 3',
    })
    .option('verbose', {
      alias: 'v',
      type: 'boolean',
      default: false,
      describe: 'also print retries and watch reconnects',
    });
}

/** The cluster flags as typed options (ClusterOptions of run-command.ts). Throws UsageError. */
export function clusterOptions(a: {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  server?: string | undefined;
  'token-file'?: string | undefined;
  'token-env'?: string | undefined;
  'certificate-authority'?: string | undefined;
  'certificate-authority-data'?: string | undefined;
  'gke-cluster'?: string | undefined;
  'gke-endpoint': 'public' | 'private' | 'dns';
  grace: string;
  'api-timeout': string;
  verbose: boolean;
}) {
  return {
    kubeconfig: a.kubeconfig,
    context: a.context,
    namespace: a.namespace,
    server: a.server,
    tokenFile: a['token-file'],
    tokenEnv: a['token-env'],
    certificateAuthority: a['certificate-authority'],
    certificateAuthorityData: a['certificate-authority-data'],
    gkeCluster: a['gke-cluster'],
    gkeEndpoint: a['gke-endpoint'],
    graceMs: parseDurationMs('grace', a.grace),
    apiTimeoutMs: parseDurationMs('api-timeout', a['api-timeout']),
    verbose: a.verbose,
  };
}
