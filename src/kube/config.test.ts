import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors.js';
import { loadClusterAccess } from './config.js';

describe('loadClusterAccess', () => {
  it('a kubeconfig that does not parse: reason and position, never its lines (they hold passwords)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kubestep-kc-')), 'kubeconfig');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    password: hunter2-secret: oops\n',
    );
    const load = () => loadClusterAccess({ kubeconfig: file }, {});
    expect(load).toThrow(InputError);
    expect(load).toThrow(
      `cannot read kubeconfig ${file}: YAML error at line 6, column 29: bad indentation of a mapping entry`,
    );
    try {
      load();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('a missing kubeconfig is named', () => {
    expect(() => loadClusterAccess({ kubeconfig: '/nonexistent/kc' }, {})).toThrow(/kubeconfig/);
  });
});
