import { createServer } from 'node:net';

/** Fails with one sentence naming the port, its use and the variable that moves it. */
export async function assertPortFree(port: number, what: string, envVar: string, host = '127.0.0.1'): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
  if (!free) throw new Error(`Port ${port} (${what}) is already in use on ${host}; stop what uses it or set ${envVar} to another port.`);
}

/** A port the OS says is free right now (tests). */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
