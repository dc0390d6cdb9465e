// Creating an object of a run, tolerant of a create whose answer was lost. Imperative shell.
import { InfraError } from '../core/errors.js';
import type { KubeApi } from '../kube/api.js';
import { isStatus } from '../kube/errors.js';
import type { Resource } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { LABEL_RUN_ID } from '../manifests/jobs.js';

/**
 * Creates `body` in `namespace` and returns it as stored, with `adopted: false`. When the name
 * exists already (409 AlreadyExists) and that object carries run id `runId` and is not being
 * deleted, it is returned with `adopted: true`: a create of this run whose answer was lost and was
 * retried, or (for the anchor) the one `kubestep up` made. Any other 409 is InfraError (someone
 * else took the name meanwhile); other errors are thrown as they are. `mayAdopt` sees the object
 * before it is adopted and throws to refuse (another live process holds it).
 */
export async function createForRun<T extends KubeObject>(
  client: KubeApi,
  res: Resource,
  namespace: string,
  body: T,
  runId: string,
  signal: AbortSignal,
  mayAdopt: (found: T) => void = () => undefined,
): Promise<{ object: T; adopted: boolean }> {
  try {
    return { object: await client.create(res, namespace, body, signal), adopted: false };
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
    const name = body.metadata?.name ?? '';
    const found = await client.get<T>(res, namespace, name, signal);
    if (found?.metadata?.labels?.[LABEL_RUN_ID] === runId && !found.metadata.deletionTimestamp) {
      mayAdopt(found);
      return { object: found, adopted: true };
    }
    throw new InfraError(
      `${res.kind}/${name} in namespace ${namespace} was created by someone else meanwhile: give this run's ${res.kind} a unique name, e.g. ${name}-\${RUN_ID}`,
      { cause: err },
    );
  }
}
