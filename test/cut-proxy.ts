// A TCP proxy on loopback in front of the real API server that cuts (resets) every connection
// after it has sent `limitBytes` to the client, or `lifetimeMs` after it opened, as a load
// balancer would: log streams, watches and lists are cut mid-response. TLS passes through
// untouched (the API server's certificate is for 127.0.0.1), so it cannot tell requests apart.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface CutProxy {
  port: number;
  /** Connections cut so far. */
  cuts: () => number;
  close: () => Promise<void>;
}

/** When to cut a connection. */
export interface CutRule {
  limitBytes?: number;
  lifetimeMs?: number;
}

/** Starts a proxy to `target` (host:port) on 127.0.0.1, on a free port. */
export async function startCutProxy(
  target: { host: string; port: number },
  rule: CutRule,
): Promise<CutProxy> {
  const limitBytes = rule.limitBytes ?? Infinity;
  let cuts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let sent = 0;
    const lifetime = rule.lifetimeMs
      ? setTimeout(() => {
          cuts++;
          client.resetAndDestroy();
          end();
        }, rule.lifetimeMs)
      : undefined;
    const end = () => {
      clearTimeout(lifetime);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (sent + d.length <= limitBytes) {
        sent += d.length;
        client.write(d);
        return;
      }
      client.write(d.subarray(0, limitBytes - sent));
      cuts++;
      // Reset, as a load balancer dropping the connection would.
      client.resetAndDestroy();
      end();
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cuts: () => cuts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
