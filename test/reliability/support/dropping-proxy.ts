/**
 * A TCP proxy between clients and the dev server that cuts connections on command, the way a
 * flaky network or a restarting load balancer does: `cut()` destroys both sides of some open
 * connections at once, with no close frame and no FIN handshake to warn either end. It forwards
 * to a fixed port, so a server killed and restarted on that port is reachable again through it;
 * while nothing listens there, each new connection is dropped as soon as it arrives.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Random } from './seeded-random.js';

/** One client connection and its upstream twin. */
type Pair = { client: Socket; upstream: Socket };

/** What the proxy did. */
export type ProxyCounts = {
  /** Client connections accepted. */
  accepted: number;
  /** Connections cut by `cut()`. */
  cut: number;
  /** Client connections dropped because the server did not accept the upstream one. */
  refused: number;
};

/** Forwards 127.0.0.1:`port` to 127.0.0.1:`targetPort` and cuts connections when told. */
export class DroppingProxy {
  private readonly pairs = new Set<Pair>();
  readonly counts: ProxyCounts = { accepted: 0, cut: 0, refused: 0 };

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    /** The port the proxy listens on. */
    readonly port: number,
  ) {}

  /** Listens on a free port of 127.0.0.1 and forwards to `targetPort`. */
  static async start(targetPort: number): Promise<DroppingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    const proxy = new DroppingProxy(server, targetPort, address.port);
    server.on('connection', (client) => proxy.forward(client));
    return proxy;
  }

  /** `http://127.0.0.1:<port>`: the server's URL as clients of the proxy see it. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections open through the proxy now. */
  get open(): number {
    return this.pairs.size;
  }

  /** Cuts up to `count` open connections, picked at random; returns how many it cut. */
  cut(r: Random, count: number): number {
    const open = [...this.pairs];
    let cut = 0;
    for (; cut < count && open.length > 0; cut++) {
      const [pair] = open.splice(r.int(0, open.length - 1), 1);
      if (pair) this.drop(pair);
    }
    this.counts.cut += cut;
    return cut;
  }

  /** Stops accepting and cuts every open connection. */
  async close(): Promise<void> {
    for (const pair of this.pairs) this.drop(pair);
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(client: Socket): void {
    this.counts.accepted++;
    const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
    const pair: Pair = { client, upstream };
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.pairs.add(pair);
    });
    // Either side ending or failing takes the other with it, at once.
    const end = () => {
      if (!connected && !client.destroyed) this.counts.refused++;
      this.drop(pair);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private drop(pair: Pair): void {
    this.pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
