// The one world of injected dependencies: the API, the output port and the clock. Commands build
// it once (cli/); every shell takes it, narrowed with Pick<> where it needs less; unit tests pass a
// small fake KubeApi and a fake clock.
import type { Output } from '../core/output.js';
import type { KubeApi } from './api.js';

/** The injected world of a command. */
export interface World {
  client: KubeApi;
  out: Output;
  /** Milliseconds since the epoch. */
  now: () => number;
}
