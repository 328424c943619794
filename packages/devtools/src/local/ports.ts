import { createServer } from 'node:net';

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Checks before starting a server, because the servers themselves fail on a taken port with a
 * message buried in their logs. Throws one sentence naming the port, its use and the variable
 * that moves it.
 */
export async function assertPortFree(port: number, host: string, what: string, envVar: string): Promise<void> {
  if (!(await canListen(port, host))) {
    throw new Error(`Port ${port} (${what}) is already in use on ${host}; stop what uses it or set ${envVar} to another port.`);
  }
}

/** A port the OS says is free right now (for tests; another process may still take it). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}
