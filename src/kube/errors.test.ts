import { describe, expect, it } from 'vitest';
import { InfraError } from '../core/errors.js';
import {
  describeNetworkError,
  isStatus,
  isTransient,
  KubeApiError,
  withoutManifestBytes,
} from './errors.js';

describe('KubeApiError', () => {
  it('says verb, object, reason and message', () => {
    const e = new KubeApiError('create job/tests', 403, {
      reason: 'Forbidden',
      message: 'jobs.batch is forbidden: User "x" cannot create resource "jobs"',
    });
    expect(e.message).toBe(
      'create job/tests: Forbidden: jobs.batch is forbidden: User "x" cannot create resource "jobs"',
    );
    expect(isStatus(e, 403)).toBe(true);
  });

  it('names the HTTP status when the body is no Status', () => {
    expect(new KubeApiError('get job/x', 503, undefined).message).toBe(
      'get job/x: ServiceUnavailable',
    );
    expect(new KubeApiError('get job/x', 418, undefined).reason).toBe('HTTP 418');
  });

  it('takes Retry-After from the header, else from the Status', () => {
    expect(new KubeApiError('x', 429, undefined, 3).retryAfterSeconds).toBe(3);
    expect(
      new KubeApiError('x', 429, { details: { retryAfterSeconds: 5 } }).retryAfterSeconds,
    ).toBe(5);
  });
});

describe('withoutManifestBytes', () => {
  it('drops the quoted request body of a decode error', () => {
    const m = `Job in version "v1" cannot be handled as a Job: v1.Container.Resources: quantities must match the regular expression, error found in #10 byte of ...|pu":"lots"}}}]},"met|..., bigger context ...|"env":[{"name":"PASSWORD","value":"hunter2"}]|...`;
    const e = new KubeApiError('dry-run create job/x', 400, { reason: 'BadRequest', message: m });
    expect(e.message).toBe(
      'dry-run create job/x: BadRequest: Job in version "v1" cannot be handled as a Job: v1.Container.Resources: quantities must match the regular expression',
    );
    expect(e.message).not.toContain('hunter2');
  });

  it('keeps other messages whole', () => {
    expect(withoutManifestBytes('spec.parallelism: Invalid value: -1')).toBe(
      'spec.parallelism: Invalid value: -1',
    );
  });
});

describe('isTransient', () => {
  const api = (code: number) => new KubeApiError('x', code, undefined);
  const net = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['500', api(500), true],
    [
      'a server-side apply that does not fit the schema (500)',
      new KubeApiError('apply service/web', 500, {
        message:
          'failed to create typed patch object: .spec.ports: element 0: associative list with keys has an element that omits key field "protocol"',
      }),
      false,
    ],
    ['503', api(503), true],
    ['429', api(429), true],
    ['408', api(408), true],
    ['400', api(400), false],
    ['403', api(403), false],
    ['404', api(404), false],
    ['409', api(409), false],
    ['422', api(422), false],
    ['ECONNREFUSED', net('ECONNREFUSED'), true],
    ['undici socket', net('UND_ERR_SOCKET'), true],
    ['wrapped', new TypeError('fetch failed', { cause: net('ECONNRESET') }), true],
    ['plain error', new Error('boom'), false],
    [
      'retries given up (InfraError with a network cause)',
      new InfraError('still failing after 60 s of retries', { cause: net('ECONNRESET') }),
      false,
    ],
    ['TLS error', net('DEPTH_ZERO_SELF_SIGNED_CERT'), false],
    ['undefined', undefined, false],
  ])('%s → %s', (_, err, expected) => {
    expect(isTransient(err)).toBe(expected);
  });
});

describe('describeNetworkError', () => {
  it('joins the cause chain', () => {
    const err = new TypeError('fetch failed', {
      cause: new Error('connect ECONNREFUSED 127.0.0.1:6443'),
    });
    expect(describeNetworkError(err)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:6443');
  });
});
