// Finding and loading cluster access. Adapter: uses @kubernetes/client-node's KubeConfig.
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { InputError, messageOf } from '../core/errors.js';
import { gkeClusterRef, type GkeEndpoint } from './gke-ref.js';
import { fileTokenSource, tokenKubeConfig, type TokenSource } from './token-access.js';

/** Where the service-account credentials of a Pod are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Flags that choose the cluster. */
export interface ClusterFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  /** --server: the API server's URL, with a token (--token-file or KUBESTEP_TOKEN). */
  server?: string | undefined;
  tokenFile?: string | undefined;
  /** --token-env NAME: the variable that holds the token (default KUBESTEP_TOKEN). */
  tokenEnv?: string | undefined;
  /** --certificate-authority FILE (PEM). */
  certificateAuthority?: string | undefined;
  /** --certificate-authority-data (base64 PEM, as in a kubeconfig). */
  certificateAuthorityData?: string | undefined;
  /** --gke-cluster projects/P/locations/L/clusters/C. */
  gkeCluster?: string | undefined;
  gkeEndpoint?: GkeEndpoint | undefined;
}

/** A loaded cluster access, with where it came from for the log. */
export interface ClusterAccess {
  kubeConfig: KubeConfig;
  /** The API server's URL. */
  server: string;
  /** Namespace for manifests that name none. */
  namespace: string;
  /** True when the namespace came from --namespace. */
  namespaceIsExplicit: boolean;
  /** e.g. `kubeconfig /root/.kube/config, context ci`. */
  source: string;
  /** The cluster's name (kubeconfig cluster, GKE cluster) or the server's host, for log labels. */
  cluster: string;
  /** The bearer token of each request, when the kubeconfig has no credentials (--server, GKE). */
  token?: TokenSource | undefined;
}

/**
 * Finds cluster access: `--server` with a token (--token-file, else the variable --token-env
 * names, default `KUBESTEP_TOKEN`) and CA;
 * else a GKE cluster (`--gke-cluster`, or Cloud Build's `CLOUDSDK_CONTAINER_CLUSTER` when no
 * kubeconfig is given) through Application Default Credentials and the GKE API; else a
 * kubeconfig or the in-cluster service account ({@link loadClusterAccess}). Throws InputError
 * (exit 2) for missing or contradicting settings, InfraError (exit 3) when the GKE API fails.
 */
export async function resolveClusterAccess(
  flags: ClusterFlags,
  env: Readonly<Record<string, string | undefined>>,
  signal: AbortSignal,
): Promise<ClusterAccess> {
  if (flags.server !== undefined) {
    const other = flags.kubeconfig
      ? '--kubeconfig'
      : flags.context
        ? '--context'
        : flags.gkeCluster
          ? '--gke-cluster'
          : undefined;
    if (other) throw new InputError(`--server and ${other} both name a cluster: give one of them`);
    let token: TokenSource;
    let from: string;
    if (flags.tokenFile) {
      token = await fileTokenSource(flags.tokenFile, Date.now);
      from = `token from ${flags.tokenFile}`;
    } else if (env[flags.tokenEnv ?? 'KUBESTEP_TOKEN']?.trim()) {
      const name = flags.tokenEnv ?? 'KUBESTEP_TOKEN';
      const t = env[name]!.trim();
      token = () => Promise.resolve(t);
      from = `token from ${name}`;
    } else if (flags.tokenEnv) {
      throw new InputError(
        `--token-env ${flags.tokenEnv}: that environment variable is not set or empty`,
      );
    } else {
      throw new InputError(
        '--server needs a bearer token: pass --token-file FILE or set KUBESTEP_TOKEN (or --token-env NAME)',
      );
    }
    const namespace = flags.namespace || 'default';
    return {
      kubeConfig: tokenKubeConfig({
        server: flags.server,
        caFile: flags.certificateAuthority,
        caData: flags.certificateAuthorityData,
        namespace,
      }),
      server: flags.server,
      namespace,
      namespaceIsExplicit: Boolean(flags.namespace),
      source: `--server, ${from}`,
      cluster: new URL(flags.server).host,
      token,
    };
  }
  for (const [flag, set] of [
    ['--token-file', flags.tokenFile],
    ['--token-env', flags.tokenEnv],
    ['--certificate-authority', flags.certificateAuthority],
    ['--certificate-authority-data', flags.certificateAuthorityData],
  ] as const) {
    if (set !== undefined) throw new InputError(`${flag} goes with --server URL`);
  }
  const byEnv = !flags.kubeconfig && !env.KUBECONFIG;
  const ref = gkeClusterRef(flags.gkeCluster, byEnv ? env : {});
  if (ref) {
    if (flags.kubeconfig || flags.context) {
      throw new InputError(
        '--gke-cluster and --kubeconfig/--context both name a cluster: give one of them',
      );
    }
    const { gkeAccess } = await import('./gke.js');
    const endpoint = flags.gkeEndpoint ?? 'public';
    const gke = await gkeAccess(ref, endpoint, env, signal);
    const namespace = flags.namespace || 'default';
    return {
      kubeConfig: tokenKubeConfig({ ...gke.spec, namespace }),
      server: gke.spec.server,
      namespace,
      namespaceIsExplicit: Boolean(flags.namespace),
      source: `GKE ${gke.name}, ${endpoint} endpoint, Application Default Credentials`,
      cluster: gke.name,
      token: gke.token,
    };
  }
  return loadClusterAccess(flags, env);
}

/**
 * Loads cluster access the way kubectl does: --kubeconfig, else the `KUBECONFIG` list (merged),
 * else `~/.kube/config`, else the in-cluster service account. Unlike client-node's
 * `loadFromDefault`, it never falls back to http://localhost:8080. The namespace is --namespace,
 * else the context's, else the service account's, else `default`.
 * Throws InputError (exit 2) saying what was looked for when nothing usable is found, or when
 * --context names a context the kubeconfig does not have.
 * Source: https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
 */
export function loadClusterAccess(
  flags: ClusterFlags,
  env: Readonly<Record<string, string | undefined>>,
): ClusterAccess {
  const kc = new KubeConfig();
  let source: string;
  const files = flags.kubeconfig
    ? [flags.kubeconfig]
    : env.KUBECONFIG
      ? env.KUBECONFIG.split(delimiter).filter((f) => f !== '')
      : [];
  const home = env.HOME ?? homedir();
  const defaultFile = join(home, '.kube', 'config');
  let inCluster = false;
  if (files.length > 0) {
    const readable = files.filter((f) => existsSync(f));
    // kubectl ignores missing files in KUBECONFIG but not a missing --kubeconfig.
    if (readable.length === 0 || (flags.kubeconfig && readable.length !== files.length)) {
      const from = flags.kubeconfig ? '--kubeconfig' : 'KUBECONFIG';
      throw new InputError(
        `${from} names ${files.join(', ')}, which does not exist: give the path of a kubeconfig file`,
      );
    }
    loadFiles(kc, readable);
    source = `kubeconfig ${readable.join(delimiter)}`;
  } else if (existsSync(defaultFile)) {
    loadFiles(kc, [defaultFile]);
    source = `kubeconfig ${defaultFile}`;
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(join(SERVICE_ACCOUNT_DIR, 'token'))) {
    kc.loadFromCluster();
    inCluster = true;
    source = 'in-cluster service account';
  } else {
    throw new InputError(
      'no cluster access found: looked for --kubeconfig, the KUBECONFIG variable, ' +
        `${defaultFile} and an in-cluster service account (KUBERNETES_SERVICE_HOST and ` +
        `${SERVICE_ACCOUNT_DIR}/token). Pass --kubeconfig FILE or run kubestep in a Pod.`,
    );
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new InputError(
        `--context ${flags.context} is not in the kubeconfig (it has: ${known.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (!context || !cluster || !cluster.server) {
    throw new InputError(
      `${source} has no usable current context${context ? ` ("${context}" names no cluster with a server)` : ''}: ` +
        'pass --context NAME or set current-context',
    );
  }
  if (!inCluster) source += `, context ${context}`;
  const contextNs = kc.getContextObject(context)?.namespace;
  const namespace =
    flags.namespace ||
    contextNs ||
    (inCluster ? readServiceAccountNamespace() : undefined) ||
    'default';
  return {
    kubeConfig: kc,
    server: cluster.server,
    namespace,
    namespaceIsExplicit: Boolean(flags.namespace),
    source,
    cluster: cluster.name,
  };
}

function loadFiles(kc: KubeConfig, files: string[]): void {
  for (const [i, file] of files.entries()) {
    try {
      if (i === 0) kc.loadFromFile(file);
      else {
        const other = new KubeConfig();
        other.loadFromFile(file);
        kc.mergeConfig(other);
      }
    } catch (err) {
      throw new InputError(`cannot read kubeconfig ${file}: ${kubeconfigProblem(err)}`, {
        cause: err,
      });
    }
  }
}

/**
 * What is wrong with a kubeconfig, without its content: a YAML error's message quotes the lines
 * around the fault, which hold tokens and passwords, so only its reason and position are kept.
 */
function kubeconfigProblem(err: unknown): string {
  const e = err as { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (typeof e.reason === 'string' && typeof e.mark?.line === 'number') {
    const column = typeof e.mark.column === 'number' ? `, column ${e.mark.column + 1}` : '';
    return `YAML error at line ${e.mark.line + 1}${column}: ${e.reason}`;
  }
  return messageOf(err).split('\n', 1)[0] ?? '';
}

function readServiceAccountNamespace(): string | undefined {
  try {
    return readFileSync(join(SERVICE_ACCOUNT_DIR, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
