import { mkdtemp, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Job } from '../kube/types.js';
import { collectArtifacts, drained, serveArtifacts } from './collect.js';
import { decodeFrame, encodeFrame } from './frames.js';
import {
  ARTIFACTS_DIR,
  COLLECTOR,
  COLLECTOR_PORT,
  TOKEN_ENV,
  TOKEN_HEADER,
  withArtifacts,
} from './inject.js';
import { ArtifactReceiver, safePath } from './receive.js';

/** What the collector writes for `dir`, as lines. */
async function collected(dir: string): Promise<string[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await collectArtifacts(dir, 60_000, Promise.resolve(), out);
  return Buffer.concat(chunks).toString().split('\n').filter(Boolean);
}

describe('frames', () => {
  it.each([
    { kind: 'begin' as const },
    { kind: 'data' as const, bytes: Buffer.from([0, 1, 2, 255]) },
    { kind: 'end' as const, size: 4, sha256: 'a'.repeat(64) },
    { kind: 'note' as const, message: 'no such directory' },
  ])('round-trips %j', (f) => {
    expect(decodeFrame(encodeFrame(f))).toEqual(f);
  });
  it('ignores lines that are not frames', () => {
    expect(decodeFrame('hello')).toBeUndefined();
    expect(decodeFrame('KSA1 not base64!')).toBeUndefined();
  });
});

describe('safePath', () => {
  it.each([
    ['a/b.xml', '/out/a/b.xml'],
    ['./a', '/out/a'],
    ['a/../b', '/out/b'],
    ['../x', undefined],
    ['a/../../x', undefined],
    ['/etc/passwd', undefined],
    ['.', undefined],
  ])('%s', (p, want) => {
    expect(safePath('/out', p)).toBe(want);
  });
});

describe('collect and receive', () => {
  it('copies files and directories byte-identical, and refuses links', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    const dest = join(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 'pod');
    await mkdir(join(src, 'reports/nested'), { recursive: true });
    await writeFile(join(src, 'reports/junit.xml'), '<testsuites/>');
    const binary = Buffer.alloc(300_000, 7);
    binary[12345] = 0;
    await writeFile(join(src, 'reports/nested/blob.bin'), binary);
    await symlink('/etc/passwd', join(src, 'passwd'));
    const lines = await collected(src);
    expect(lines[0]).toBe('KSA1 BEGIN');
    expect(lines.at(-1)).toMatch(/^KSA1 END \d+ [0-9a-f]{64}$/);
    const r = new ArtifactReceiver(dest, 1 << 30);
    await r.write(['some other line', ...lines]);
    const got = await r.finish();
    expect(got).toMatchObject({ files: 2, bytes: 300_013, complete: true });
    expect(got.problems).toEqual([
      '"passwd": SymbolicLink not copied (only files and directories are)',
    ]);
    expect(await readFile(join(dest, 'reports/junit.xml'), 'utf8')).toBe('<testsuites/>');
    expect((await readFile(join(dest, 'reports/nested/blob.bin'))).equals(binary)).toBe(true);
    expect((await readdir(dest)).sort()).toEqual(['reports']);
  });

  it('stops at the size limit and says so', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    const dest = join(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 'pod');
    await writeFile(join(src, 'a.txt'), 'x'.repeat(600));
    await writeFile(join(src, 'b.txt'), 'y'.repeat(600));
    const r = new ArtifactReceiver(dest, 1000);
    await r.write(await collected(src));
    const got = await r.finish();
    expect(got).toMatchObject({ files: 1, bytes: 600, complete: true });
    expect(got.problems).toEqual([
      '"b.txt": not copied: the artifacts reached --artifacts-max-size (1000 bytes)',
    ]);
  });

  it('says when the stream is incomplete or never came', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    await writeFile(join(src, 'a.txt'), 'x'.repeat(10_000));
    const lines = await collected(src);
    const base = await mkdtemp(join(tmpdir(), 'ksa-dest-'));
    const cut = new ArtifactReceiver(join(base, 'pod'), 1 << 30);
    await cut.write(lines.slice(0, 2));
    const got = await cut.finish();
    expect(got).toMatchObject({ complete: false, dir: join(base, 'pod.incomplete') });
    expect(got.problems.at(-1)).toMatch(
      /^the stream is incomplete \(3072 bytes arrived\): what arrived is in .*pod\.incomplete, and may be damaged$/,
    );
    expect((await readdir(base)).sort()).toEqual(['pod.incomplete']);
    const none = new ArtifactReceiver(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 1 << 30);
    expect((await none.finish()).problems[0]).toMatch(/no artifacts were sent/);
  });

  it('an empty directory is an empty archive: complete, no files, no problem', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    const dest = join(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 'pod');
    const r = new ArtifactReceiver(dest, 1 << 30);
    await r.write(await collected(src));
    expect(await r.finish()).toEqual({
      dir: dest,
      files: 0,
      bytes: 0,
      complete: true,
      problems: [],
    });
    expect(await readdir(dest)).toEqual([]);
  });

  it('notes a directory the collector cannot read', async () => {
    expect(await collected('/nonexistent-dir')).toEqual([
      expect.stringMatching(/^KSA1 NOTE could not send \/nonexistent-dir: ENOENT/),
    ]);
  });
});

describe('the direct path (serveArtifacts and receiveTar)', () => {
  const get = async (port: number, path: string, token = 'secret') =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers: { [TOKEN_HEADER]: token } });

  it('serves the tar to the token only, confirms what it sent whole, then skips the log', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    await mkdir(join(src, 'deep/er'), { recursive: true });
    const blob = Buffer.alloc(2_000_000);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) % 251;
    await writeFile(join(src, 'deep/er/blob.bin'), blob);
    await symlink('/etc/passwd', join(src, 'passwd'));
    const server = await serveArtifacts(src, 0, 'secret', '127.0.0.1');
    try {
      expect((await get(server.port, '/artifacts.tar', 'wrong')).status).toBe(403);
      expect((await get(server.port, '/other')).status).toBe(404);
      const res = await get(server.port, '/artifacts.tar');
      expect(res.status).toBe(200);
      const dest = join(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 'pod');
      const r = new ArtifactReceiver(dest, 1 << 30);
      const sent = await r.receiveTar(res.body as unknown as AsyncIterable<Uint8Array>);
      // A size or hash that was never sent is not confirmed.
      const wrong = `/done?size=${sent.size + 1}&sha256=${sent.sha256}`;
      expect((await get(server.port, wrong)).status).toBe(409);
      expect(server.confirmed()).toBe(false);
      const done = `/done?size=${sent.size}&sha256=${sent.sha256}`;
      expect((await get(server.port, done)).status).toBe(200);
      expect(server.confirmed()).toBe(true);
      r.confirm(sent);
      const got = await r.finish();
      expect(got).toMatchObject({ complete: true, files: 1, bytes: 2_000_000, dir: dest });
      expect((await readFile(join(dest, 'deep/er/blob.bin'))).equals(blob)).toBe(true);
      expect(await readdir(dest)).toEqual(['deep']);
    } finally {
      await server.close();
    }
    // Stopped after a confirmed fetch, the collector sends nothing through its log.
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await collectArtifacts(src, 60_000, Promise.resolve(), out, undefined, server);
    expect(Buffer.concat(chunks).toString()).toBe(
      'kubestep collector: the artifacts were fetched through the API server\n',
    );
  });

  it('leaves nothing behind when a transfer is discarded, and is not confirmed', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    await writeFile(join(src, 'a.bin'), Buffer.alloc(1_000_000, 1));
    const server = await serveArtifacts(src, 0, 'secret', '127.0.0.1');
    try {
      const res = await get(server.port, '/artifacts.tar');
      const base = await mkdtemp(join(tmpdir(), 'ksa-dest-'));
      const r = new ArtifactReceiver(join(base, 'pod'), 1 << 30);
      // Only the first chunk: the transfer breaks off.
      async function* first(): AsyncGenerator<Uint8Array> {
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
          yield c;
          throw new Error('connection reset');
        }
      }
      await expect(r.receiveTar(first())).rejects.toThrow('connection reset');
      await r.discard();
      expect(await readdir(base)).toEqual([]);
      expect(server.confirmed()).toBe(false);
    } finally {
      await server.close();
    }
  });

  it('waits for drain without piling up listeners', async () => {
    const res = new EventEmitter() as unknown as ServerResponse;
    for (let i = 0; i < 20; i++) {
      const waiting = drained(res);
      res.emit('drain');
      await waiting;
    }
    expect([res.listenerCount('drain'), res.listenerCount('close')]).toEqual([0, 0]);
    const closing = drained(res);
    res.emit('close');
    await closing;
    expect([res.listenerCount('drain'), res.listenerCount('close')]).toEqual([0, 0]);
  });

  it('rejects when the port is taken', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    const first = await serveArtifacts(src, 0, 't', '127.0.0.1');
    try {
      await expect(serveArtifacts(src, first.port, 't', '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});

describe('withArtifacts', () => {
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 't' },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          initContainers: [{ name: 'setup', image: 'x' }],
          containers: [
            { name: 'main', image: 'x', env: [{ name: 'ARTIFACTS', value: '/mine' }] } as never,
          ],
        },
      },
    },
  };
  it('mounts the volume everywhere, sets ARTIFACTS where unset, adds the collector', () => {
    const out = withArtifacts(job, {
      image: 'kubestep:local',
      deadlineSeconds: 3700,
      token: 't0k',
    });
    const spec = out.spec!.template!.spec! as unknown as Record<
      string,
      { name: string; env?: unknown[]; volumeMounts?: unknown[]; args?: string[] }[]
    >;
    expect(spec.containers!.map((c) => c.name)).toEqual(['main', COLLECTOR]);
    expect(spec.containers![0]!.env).toEqual([
      { name: 'ARTIFACTS', value: '/mine' },
      { name: 'KUBESTEP_OUTPUT', value: `${ARTIFACTS_DIR}/.kubestep-output` },
    ]);
    expect(spec.initContainers![0]!.env).toEqual([
      { name: 'ARTIFACTS', value: ARTIFACTS_DIR },
      { name: 'KUBESTEP_OUTPUT', value: `${ARTIFACTS_DIR}/.kubestep-output` },
    ]);
    expect(spec.containers![1]!.args).toEqual([
      'collect-artifacts',
      '--dir',
      ARTIFACTS_DIR,
      '--deadline',
      '3700',
      '--port',
      String(COLLECTOR_PORT),
    ]);
    expect(spec.containers![1]!.env).toEqual([{ name: TOKEN_ENV, value: 't0k' }]);
    expect(spec.volumes).toEqual([{ name: 'kubestep-artifacts', emptyDir: {} }]);
    // The manifest itself is untouched.
    expect(job.spec!.template!.spec!.containers).toHaveLength(1);
  });

  it('--outputs alone: only KUBESTEP_OUTPUT is set, and the collector sends only that file', () => {
    const out = withArtifacts(job, {
      image: 'kubestep:local',
      deadlineSeconds: 60,
      token: 't',
      withoutArtifacts: true,
    });
    const spec = out.spec!.template!.spec! as unknown as Record<
      string,
      { name: string; env?: unknown[]; args?: string[] }[]
    >;
    expect(spec.initContainers![0]!.env).toEqual([
      { name: 'KUBESTEP_OUTPUT', value: `${ARTIFACTS_DIR}/.kubestep-output` },
    ]);
    expect(spec.containers![1]!.args!.slice(-4)).toEqual([
      '--only',
      '.kubestep-output',
      '--only',
      '.kubestep-junit',
    ]);
  });

  it('--junit: the directory of each absolute pattern is mounted in the test containers', () => {
    const out = withArtifacts(job, {
      image: 'kubestep:local',
      deadlineSeconds: 60,
      token: 't',
      junit: [
        { pattern: 'reports/*.xml', dir: undefined, glob: 'reports/*.xml' },
        {
          pattern: '/app/target/surefire-reports/*.xml',
          dir: '/app/target/surefire-reports',
          glob: '*.xml',
        },
      ],
    });
    const spec = out.spec!.template!.spec! as unknown as Record<
      string,
      { name: string; volumeMounts?: unknown[] }[]
    >;
    expect(spec.containers![0]!.volumeMounts).toEqual([
      { name: 'kubestep-artifacts', mountPath: ARTIFACTS_DIR },
      {
        name: 'kubestep-artifacts',
        mountPath: '/app/target/surefire-reports',
        subPath: '.kubestep-junit/1',
      },
    ]);
    // Not in the init containers, and the collector reads the whole volume.
    expect(spec.initContainers![0]!.volumeMounts).toHaveLength(1);
    expect(spec.containers![1]!.volumeMounts).toEqual([
      { name: 'kubestep-artifacts', mountPath: ARTIFACTS_DIR, readOnly: true },
    ]);
  });

  it.each([
    ['no user anywhere: nonroot 65532', {}, {}, 65532],
    ['the first test container’s user', {}, { runAsUser: 1000 }, 1000],
    ['a test container as root: still 65532', {}, { runAsUser: 0 }, 65532],
    [
      'the pod’s user is inherited',
      { runAsUser: 2000, runAsNonRoot: true },
      { runAsUser: 1000 },
      undefined,
    ],
  ])('the collector’s securityContext (restricted profile): %s', (_name, podSc, mainSc, uid) => {
    const j = structuredClone(job);
    const spec = j.spec!.template!.spec! as unknown as Record<string, unknown>;
    spec.securityContext = podSc;
    (spec.containers as Record<string, unknown>[])[0]!.securityContext = mainSc;
    const out = withArtifacts(j, { image: 'k', deadlineSeconds: 60, token: 't' });
    const collector = (
      out.spec!.template!.spec!.containers as unknown as {
        name: string;
        securityContext: unknown;
      }[]
    ).find((c) => c.name === COLLECTOR)!;
    expect(collector.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      ...(uid === undefined ? {} : { runAsUser: uid }),
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('--only: the collector sends those entries alone', async () => {
    const src = await mkdtemp(join(tmpdir(), 'ksa-src-'));
    await writeFile(join(src, '.kubestep-output'), 'A=1\n');
    await writeFile(join(src, 'big.bin'), Buffer.alloc(10_000));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await collectArtifacts(src, 60_000, Promise.resolve(), out, undefined, undefined, [
      '.kubestep-output',
      '.kubestep-junit',
    ]);
    const dest = join(await mkdtemp(join(tmpdir(), 'ksa-dest-')), 'pod');
    const r = new ArtifactReceiver(dest, 1 << 20);
    await r.write(Buffer.concat(chunks).toString().split('\n'));
    expect(await r.finish()).toMatchObject({ complete: true, files: 1, bytes: 4 });
    expect(await readdir(dest)).toEqual(['.kubestep-output']);
  });
});
