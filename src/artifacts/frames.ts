// How artifacts travel from the collector container to kubestep: a tar stream in base64 lines of
// the collector's log (the one channel `deploy/rbac.yaml` already allows: get on pods/log). Pure.

/** The prefix of every line of the stream; other lines of the collector are its own messages. */
export const FRAME_PREFIX = 'KSA1 ';
/** Raw bytes per line: 3072 bytes are 4096 base64 characters (the follower takes 1 MiB lines). */
export const FRAME_BYTES = 3072;

/** One line of the stream. */
export type Frame =
  | { kind: 'begin' }
  | { kind: 'data'; bytes: Buffer }
  | { kind: 'end'; size: number; sha256: string }
  /** The collector found nothing to send, or failed: its words. */
  | { kind: 'note'; message: string };

/** The line for `frame` (without the line ending). */
export function encodeFrame(frame: Frame): string {
  switch (frame.kind) {
    case 'begin':
      return `${FRAME_PREFIX}BEGIN`;
    case 'data':
      return `${FRAME_PREFIX}${frame.bytes.toString('base64')}`;
    case 'end':
      return `${FRAME_PREFIX}END ${frame.size} ${frame.sha256}`;
    case 'note':
      return `${FRAME_PREFIX}NOTE ${frame.message.replace(/[\r\n]+/g, ' ')}`;
  }
}

/** The frame a log line holds, or undefined for a line that is not one. */
export function decodeFrame(line: string): Frame | undefined {
  if (!line.startsWith(FRAME_PREFIX)) return undefined;
  const rest = line.slice(FRAME_PREFIX.length);
  if (rest === 'BEGIN') return { kind: 'begin' };
  if (rest.startsWith('NOTE ')) return { kind: 'note', message: rest.slice(5) };
  const end = /^END (\d+) ([0-9a-f]{64})$/.exec(rest);
  if (end) return { kind: 'end', size: Number(end[1]), sha256: end[2]! };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(rest)) return undefined;
  return { kind: 'data', bytes: Buffer.from(rest, 'base64') };
}
