// A small in-memory KubeApi for unit tests of the shells (never bundled: only tests import it).
// Objects live in a map; every call is recorded; chosen calls can be made to fail. Deleting an
// object (not with Orphan) also removes what it owns, as the garbage collector would.
import type { Readable } from 'node:stream';
import type { KubeApi, ListOptions, ServerVersion } from './api.js';
import { KubeApiError } from './errors.js';
import type { Resource } from './resources.js';
import type { KubeObject, ObjectList, Status, WatchEvent } from './types.js';

export class FakeKubeApi implements KubeApi {
  /** Every call: `delete job/ci/tests Background`, `patch configmap/ci/settings`, … */
  readonly calls: string[] = [];
  /** `verb kind/name` → the HTTP status code to answer instead (e.g. `delete pod/x` → 403). */
  readonly failures = new Map<string, number>();
  private readonly objects = new Map<string, { res: Resource; object: KubeObject }>();
  private uids = 0;

  /** Puts `object` of kind `res` into the fake cluster (with a uid when it has none). */
  add<T extends KubeObject>(res: Resource, object: T): T {
    const stored = { ...object, metadata: { uid: `uid-${++this.uids}`, ...object.metadata } };
    const k = keyOf(res, stored.metadata.namespace, stored.metadata.name ?? '');
    this.objects.set(k, { res, object: stored });
    return stored;
  }

  /** Whether an object of kind `res` named `name` is in namespace `ns`. */
  has(res: Resource, ns: string, name: string): boolean {
    return this.objects.has(keyOf(res, ns, name));
  }

  get<T extends KubeObject>(res: Resource, ns: string, name: string): Promise<T | undefined> {
    return this.answer('get', res, ns, name, '', () => this.find(res, ns, name) as T | undefined);
  }

  create<T extends KubeObject>(res: Resource, ns: string | undefined, body: T): Promise<T> {
    const name = body.metadata?.name ?? '';
    return this.answer('create', res, ns, name, '', () =>
      this.add(res, { ...body, metadata: { ...body.metadata, namespace: ns } }),
    );
  }

  delete(
    res: Resource,
    ns: string | undefined,
    name: string,
    opts: { propagationPolicy: string; uid?: string | undefined },
  ): Promise<'absent' | 'gone' | 'deleting'> {
    return this.answer('delete', res, ns, name, opts.propagationPolicy, () => {
      const found = this.find(res, ns, name);
      if (!found || (opts.uid && found.metadata?.uid !== opts.uid)) return 'absent' as const;
      this.objects.delete(keyOf(res, ns, name));
      if (opts.propagationPolicy !== 'Orphan') {
        for (const [k, o] of this.objects) {
          const refs = o.object.metadata?.ownerReferences ?? [];
          if (refs.some((r) => r.uid === found.metadata?.uid)) this.objects.delete(k);
        }
      }
      return 'gone' as const;
    });
  }

  patch<T extends KubeObject>(
    res: Resource,
    ns: string,
    name: string,
    patch: unknown,
  ): Promise<T | undefined> {
    return this.answer('patch', res, ns, name, '', () => {
      const entry = this.objects.get(keyOf(res, ns, name));
      if (!entry) return undefined;
      // A JSON merge patch of metadata fields (null removes), enough for kubestep's patches.
      const metadata: Record<string, unknown> = { ...entry.object.metadata };
      const changes = (patch as { metadata?: Record<string, unknown> }).metadata ?? {};
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) delete metadata[k];
        else metadata[k] = v;
      }
      entry.object = { ...entry.object, metadata };
      return entry.object as T;
    });
  }

  list<T extends KubeObject>(
    res: Resource,
    ns: string | undefined,
    opts: ListOptions,
  ): Promise<ObjectList<T>> {
    return this.answer('list', res, ns, opts.labelSelector ?? '', '', () => {
      const wanted = (opts.labelSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((kv) => kv.split('='));
      const items = [...this.objects.values()]
        .filter((o) => o.res === res && (ns === undefined || o.object.metadata?.namespace === ns))
        .filter((o) => wanted.every(([k, v]) => o.object.metadata?.labels?.[k!] === v))
        .map((o) => o.object as T);
      return { metadata: { resourceVersion: '1' }, items };
    });
  }

  watch<T>(): AsyncGenerator<WatchEvent<T | Status>> {
    throw new Error('FakeKubeApi does not watch: test informers against the cluster');
  }

  logs(): Promise<Readable> {
    return Promise.reject(new Error('FakeKubeApi has no logs'));
  }

  apply<T extends KubeObject>(): Promise<T> {
    return Promise.reject(new Error('FakeKubeApi has no server-side apply'));
  }

  discover(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  version(): Promise<ServerVersion> {
    return Promise.resolve({ gitVersion: 'v1.20.15', major: '1', minor: '20' });
  }

  proxyGet(): Promise<Readable> {
    return Promise.reject(new Error('FakeKubeApi has no pods/proxy'));
  }

  private find(res: Resource, ns: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(keyOf(res, ns, name))?.object;
  }

  /** Records the call, then answers `value()`, or the failure set for it, as a promise. */
  private answer<T>(
    verb: string,
    res: Resource,
    ns: string | undefined,
    name: string,
    extra: string,
    value: () => T,
  ): Promise<T> {
    this.calls.push(`${verb} ${res.kind}/${ns ?? ''}/${name}${extra ? ` ${extra}` : ''}`);
    const code = this.failures.get(`${verb} ${res.kind}/${name}`);
    if (code)
      return Promise.reject(new KubeApiError(`${verb} ${res.kind}/${name}`, code, undefined));
    return Promise.resolve(value());
  }
}

function keyOf(res: Resource, ns: string | undefined, name: string): string {
  return `${res.kind}/${ns ?? ''}/${name}`;
}
