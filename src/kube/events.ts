// The events of one object, as `kubectl describe` lists them. Adapter over KubeApi.
import { messageOf } from '../core/errors.js';
import type { KubeApi } from './api.js';
import { EVENTS } from './resources.js';
import type { KubeEvent, KubeObject } from './types.js';

/**
 * The core/v1 events whose `involvedObject.uid` is `object`'s, within `timeoutMs` (explaining a
 * failure must not hold up the verdict or the cleanup). Never throws: on failure it returns no
 * events and the reason, for the debug log.
 * Source: https://kubernetes.io/docs/reference/kubernetes-api/cluster-resources/event-v1/
 */
export async function eventsOf(
  client: KubeApi,
  object: KubeObject,
  signal: AbortSignal,
  timeoutMs = 5_000,
): Promise<{ events: KubeEvent[]; error?: string }> {
  const uid = object.metadata?.uid;
  const ns = object.metadata?.namespace;
  if (!uid || !ns) return { events: [] };
  try {
    const list = await client.list<KubeEvent>(
      EVENTS,
      ns,
      { fieldSelector: `involvedObject.uid=${uid}` },
      AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    );
    return { events: list.items };
  } catch (err) {
    return { events: [], error: messageOf(err) };
  }
}
