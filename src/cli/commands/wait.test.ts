import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/errors.js';
import { parseJobRef } from './wait.js';

describe('parseJobRef', () => {
  it.each([
    ['job/tests', 'tests'],
    ['jobs/tests', 'tests'],
    ['job.batch/tests', 'tests'],
    ['jobs.batch/e2e-1', 'e2e-1'],
    ['tests', 'tests'],
  ])('%s → %s', (arg, name) => {
    expect(parseJobRef(arg)).toBe(name);
  });

  it.each([
    ['deployment/web', /wait takes Jobs, as job\/NAME/],
    ['job/a/b', /wait takes Jobs/],
    ['job/', /job name "" is empty/],
    ['job/Tests', /must consist of lower case letters/],
    [`job/${'a'.repeat(64)}`, /64 characters long; the limit is 63/],
  ])('refuses %s', (arg, message) => {
    expect(() => parseJobRef(arg)).toThrow(UsageError);
    expect(() => parseJobRef(arg)).toThrow(message);
  });
});
