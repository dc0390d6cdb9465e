// Cluster access from a server URL, a bearer token and a CA, without a kubeconfig file (a
// Knative-style cluster resource, or GKE's endpoint and CA). Adapter: builds a client-node
// KubeConfig in memory.
import { KubeConfig } from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { InputError, messageOf } from '../core/errors.js';

/** Gives the bearer token for the next request; may refresh it. */
export type TokenSource = () => Promise<string>;

/** Where the API server is and how to trust it. */
export interface ServerSpec {
  /** `https://HOST[:PORT]`. */
  server: string;
  /** PEM of the CA, base64-encoded as in a kubeconfig's `certificate-authority-data`. */
  caData?: string | undefined;
  /** A PEM file of the CA. */
  caFile?: string | undefined;
  /** Namespace of the context. */
  namespace?: string | undefined;
}

/**
 * A KubeConfig with one context for `spec` and a user without credentials: the bearer token is
 * added to each request by KubeApi from a {@link TokenSource}. Without a CA the system's
 * roots are trusted. Throws InputError for a server that is not an https URL.
 */
export function tokenKubeConfig(spec: ServerSpec): KubeConfig {
  let url: URL;
  try {
    url = new URL(spec.server);
  } catch {
    throw new InputError(
      `--server ${JSON.stringify(spec.server)} is not a URL: give https://HOST[:PORT]`,
    );
  }
  if (url.protocol !== 'https:') {
    throw new InputError(
      `--server ${spec.server} is not https: the token would travel in clear text`,
    );
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'kubestep',
        server: spec.server.replace(/\/+$/, ''),
        caData: spec.caData,
        caFile: spec.caFile,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'kubestep' }],
    contexts: [
      { name: 'kubestep', cluster: 'kubestep', user: 'kubestep', namespace: spec.namespace },
    ],
    currentContext: 'kubestep',
  });
  return kc;
}

/** How long a token read from a file is used before the file is read again, ms (as client-go). */
export const TOKEN_FILE_REFRESH_MS = 60_000;

/**
 * A token read from `path`, read again when the last read is older than
 * {@link TOKEN_FILE_REFRESH_MS} (projected service-account tokens are rotated in place). Reads
 * once at once, so that a missing or empty file is an InputError before anything happens.
 */
export async function fileTokenSource(path: string, now: () => number): Promise<TokenSource> {
  const read = async () => {
    let token: string;
    try {
      token = (await readFile(path, 'utf8')).trim();
    } catch (err) {
      throw new InputError(`--token-file ${path} cannot be read: ${messageOf(err)}`, {
        cause: err,
      });
    }
    if (!token) throw new InputError(`--token-file ${path} is empty: it must hold a bearer token`);
    return token;
  };
  let token = await read();
  let readAt = now();
  return async () => {
    if (now() - readAt >= TOKEN_FILE_REFRESH_MS) {
      // A rotation in progress (empty or missing for a moment) keeps the old token.
      token = await read().catch(() => token);
      readAt = now();
    }
    return token;
  };
}
