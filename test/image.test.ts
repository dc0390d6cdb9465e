// The kubestep image: the Dockerfile and scripts/build-local-image.sh give the same files and
// config, and the image (built locally: no Docker engine here) runs kubestep as a Pod in the
// cluster, in-cluster mode, with the ServiceAccount's token and namespace.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../src/kube/resources.js';
import type { Job } from '../src/kube/types.js';
import { jobYaml, kubectl, objectsIn, until, useTestNamespace } from './harness.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KIT = process.env.K8S_LOCAL_KIT ?? join(ROOT, 'test/cluster');
const STATE = process.env.K8S_LOCAL_DIR ?? '/var/tmp/k8s-local';
const TARBALL = join(STATE, 'images/kubestep.tar');

const t = useTestNamespace('image');

/** One stage of a Dockerfile: its FROM and its instructions, continuation lines joined. */
interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** The stages of a Dockerfile (enough of the syntax for ours: no heredocs, no parser directives). */
function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ');
    if (op === 'FROM') {
      const [from, , name] = args.split(' ');
      stages.push({ from: from!, name, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return stages;
}

/** Files under `dir` (relative paths, sorted), with their sizes. */
function filesUnder(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(relative(dir, p), statSync(p).size);
    }
  };
  walk(dir);
  return out;
}

/** The image config and the files (path → size) of a one-layer `docker save` tarball. */
async function readImage(tarball: string): Promise<{
  config: {
    Entrypoint: string[];
    Cmd: string[];
    WorkingDir: string;
    Env: string[];
    Labels: Record<string, string>;
  };
  files: Map<string, number>;
  bytes: number;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'kubestep-image-'));
  await run('tar', ['-xf', tarball, '-C', dir]);
  const [manifest] = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    Config: string;
    Layers: string[];
  }[];
  const config = (
    JSON.parse(readFileSync(join(dir, manifest!.Config), 'utf8')) as { config: never }
  ).config;
  const layer = join(dir, manifest!.Layers[0]!);
  const { stdout } = await run('tar', ['-tvf', layer], { maxBuffer: 64 * 1024 * 1024 });
  const files = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    // -rwxr-xr-x 0/0 108512048 2020-01-01 00:00 ./nodejs/bin/node
    const m = /^-\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+\.\/(.+)$/.exec(line);
    if (m) files.set(m[2]!, Number(m[1]));
  }
  return { config, files, bytes: statSync(layer).size };
}

describe('the image', () => {
  beforeAll(async () => {
    await run('bash', [join(ROOT, 'scripts/build-local-image.sh'), KIT], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 300_000);

  it('the Dockerfile: multi-stage, a distroless final stage without shell steps, absolute ENTRYPOINT, OCI labels', () => {
    const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const final = stages.at(-1)!;
    expect(final.from).toMatch(/^gcr\.io\/distroless\//);
    const ops = final.instructions.map((i) => i.op);
    expect(ops).not.toContain('RUN');
    const entrypoint = JSON.parse(final.instructions.find((i) => i.op === 'ENTRYPOINT')!.args) as [
      string,
      ...string[],
    ];
    expect(entrypoint[0]).toMatch(/^\//);
    // Absolute paths, and Node's own flags between them.
    expect(entrypoint.every((a) => a.startsWith('/') || a.startsWith('--'))).toBe(true);
    expect(entrypoint.at(-1)).toBe('/app/kubestep.mjs');
    const labels = final.instructions.filter((i) => i.op === 'LABEL').map((i) => i.args);
    for (const key of ['title', 'description', 'licenses', 'version', 'revision']) {
      expect(labels.join(' ')).toContain(`org.opencontainers.image.${key}=`);
    }
  });

  it('the local image has the files and config the Dockerfile gives, and is under 150 MB', async () => {
    const stages = dockerfileStages(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const final = stages.at(-1)!;
    const build = stages.find(
      (s) =>
        s.name === final.instructions.find((i) => i.op === 'COPY')?.args.match(/--from=(\S+)/)?.[1],
    );
    expect(build, 'the final stage copies from a build stage').toBeDefined();
    // The build stage makes /rootfs with scripts/image-rootfs.sh; the final stage copies it to /.
    expect(
      build!.instructions.some(
        (i) =>
          i.op === 'RUN' &&
          /scripts\/image-rootfs\.sh \/rootfs node_modules\/node\/bin\/node/.test(i.args),
      ),
    ).toBe(true);
    expect(final.instructions.filter((i) => i.op === 'COPY').map((i) => i.args)).toEqual([
      `--from=${build!.name} /rootfs/ /`,
    ]);

    // What the Dockerfile's build stage puts into /rootfs, made here the same way.
    const rootfs = mkdtempSync(join(tmpdir(), 'kubestep-rootfs-'));
    await run('bash', [
      join(ROOT, 'scripts/image-rootfs.sh'),
      rootfs,
      join(ROOT, 'node_modules/node/bin/node'),
    ]);
    const dockerFiles = filesUnder(rootfs);
    expect(dockerFiles.get('app/kubestep.mjs')).toBeGreaterThan(0);
    expect([...dockerFiles.keys()].some((f) => f.endsWith('.map'))).toBe(false);

    const image = await readImage(TARBALL);
    // Every file of /rootfs is in the local image, same size; nothing else under /app or /nodejs.
    for (const [path, size] of dockerFiles) expect(image.files.get(path), path).toBe(size);
    const ours = [...image.files.keys()].filter((f) => /^(app|nodejs)\//.test(f)).sort();
    expect(ours).toEqual([...dockerFiles.keys()].sort());

    const instr = (op: string) => final.instructions.find((i) => i.op === op)!.args;
    expect(image.config.Entrypoint).toEqual(JSON.parse(instr('ENTRYPOINT')));
    expect(image.config.Cmd).toEqual(JSON.parse(instr('CMD')));
    expect(image.config.WorkingDir).toBe(instr('WORKDIR'));
    const dockerLabels = Object.fromEntries(
      [
        ...final.instructions
          .filter((i) => i.op === 'LABEL')
          .map((i) => i.args)
          .join(' ')
          .matchAll(/([\w.-]+)="([^"]*)"/g),
      ].map((m) => [m[1]!, m[2]!]),
    );
    expect(Object.keys(image.config.Labels).sort()).toEqual(Object.keys(dockerLabels).sort());
    for (const [k, v] of Object.entries(dockerLabels)) {
      if (!v.includes('${')) expect(image.config.Labels[k], k).toBe(v);
    }
    const mb = image.bytes / 1e6;
    console.log(
      `kubestep:local: ${mb.toFixed(1)} MB uncompressed, ${image.files.size} files; /app ${(ours.filter((f) => f.startsWith('app/')).reduce((n, f) => n + image.files.get(f)!, 0) / 1e6).toFixed(1)} MB`,
    );
    expect(mb).toBeLessThan(150);
  });

  it('runs as a Job in the cluster (in-cluster mode: service account token and namespace) and exits with the test Job result', async () => {
    const inner = (name: string, script: string) => jobYaml(name, script);
    await kubectl([
      'create',
      'configmap',
      'manifests',
      '-n',
      t.ns,
      `--from-literal=pass.yaml=${inner('inner-pass', 'echo inner says hello')}`,
      `--from-literal=fail.yaml=${inner('inner-fail', 'echo inner fails; exit 4')}`,
    ]);
    const outer = (name: string, file: string) => `apiVersion: batch/v1
kind: Job
metadata: { name: ${name} }
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: kubestep
      containers:
        - name: kubestep
          image: kubestep:local
          imagePullPolicy: Never
          args: [run, -f, /manifests/${file}, --timeout, 2m]
          volumeMounts: [{ name: manifests, mountPath: /manifests }]
      volumes: [{ name: manifests, configMap: { name: manifests } }]
`;
    await kubectl(
      ['apply', '-n', t.ns, '-f', '-'],
      outer('outer-pass', 'pass.yaml') + '---\n' + outer('outer-fail', 'fail.yaml'),
    );
    const condition = async (name: string) => {
      const job = await t.client.get<Job>(JOBS, t.ns, name, AbortSignal.timeout(10_000));
      return job?.status?.conditions?.find(
        (c) => c.status === 'True' && (c.type === 'Complete' || c.type === 'Failed'),
      )?.type;
    };
    await until(
      async () =>
        (await condition('outer-pass')) !== undefined &&
        (await condition('outer-fail')) !== undefined,
      120_000,
      'the outer Jobs to end',
    );
    expect(await condition('outer-pass')).toBe('Complete');
    expect(await condition('outer-fail')).toBe('Failed');

    const passLog = await kubectl(['logs', '-n', t.ns, 'job/outer-pass']);
    expect(passLog).toContain('inner says hello');
    expect(passLog).toMatch(/\(in-cluster service account\)/);
    expect(passLog).toContain(`created job/inner-pass in namespace ${t.ns}`);
    expect(passLog).toContain('PASSED');
    const failLog = await kubectl(['logs', '-n', t.ns, 'job/outer-fail']);
    expect(failLog).toContain('inner fails');
    const exit = await kubectl([
      'get',
      'pods',
      '-n',
      t.ns,
      '-l',
      'job-name=outer-fail',
      '-o',
      'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}',
    ]);
    expect(exit).toBe('1');
    // The inner Jobs (and the runs' anchors) were deleted by kubestep in the pod.
    await until(
      async () =>
        (await objectsIn(t.client, t.ns)).jobs.every((j) => j.metadata?.name?.startsWith('outer-')),
      60_000,
      'the inner Jobs to be gone',
    );
  });

  it('as PID 1, stops on SIGTERM (its pod deleted) and deletes the test Job it created', async () => {
    await kubectl([
      'create',
      'configmap',
      'long',
      '-n',
      t.ns,
      `--from-literal=long.yaml=${jobYaml('inner-long', 'echo started; sleep 300')}`,
    ]);
    await kubectl(
      ['apply', '-n', t.ns, '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: outer-term }
spec:
  restartPolicy: Never
  serviceAccountName: kubestep
  terminationGracePeriodSeconds: 90
  containers:
    - name: kubestep
      image: kubestep:local
      imagePullPolicy: Never
      args: [run, -f, /manifests/long.yaml]
      volumeMounts: [{ name: manifests, mountPath: /manifests }]
  volumes: [{ name: manifests, configMap: { name: long } }]
`,
    );
    const logs = () => kubectl(['logs', '-n', t.ns, 'outer-term']).catch(() => '');
    await until(async () => (await logs()).includes('started'), 60_000, 'the inner Job to run');
    const stopped = Date.now();
    await kubectl(['delete', 'pod', 'outer-term', '-n', t.ns, '--wait=false']);
    // Without a SIGTERM handler Node as PID 1 ignores the signal: the Job would stay until the
    // kubelet's SIGKILL after 90 s, and then until its backstop an hour later.
    await until(
      async () => {
        const { jobs } = await objectsIn(t.client, t.ns);
        return !jobs.some((j) => j.metadata?.name === 'inner-long');
      },
      60_000,
      'kubestep in the pod to delete job/inner-long',
    );
    console.log(`inner Job gone ${Date.now() - stopped} ms after the pod was deleted`);
  });
});
