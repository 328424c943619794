// The console on its own, for a deployment (Compose, Kubernetes): its pages and files on PORT,
// behind the same reverse proxy (or Ingress) that routes /api to the services. `npm start` does
// not need it: its local gateway serves the console itself.
import http from 'node:http';
import { consoleFile } from './index.ts';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '0.0.0.0';

const server = http.createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0]!;
  res.setHeader('x-content-type-options', 'nosniff');
  if (path === '/health/live' || path === '/health/ready') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
  const { status, type, body, headers } = consoleFile(path);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers }).end(req.method === 'HEAD' ? undefined : body);
});
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `Port ${port} (the console) is already in use; set PORT to another port.` : `the console failed: ${error.message}`);
  process.exit(1);
});
server.listen(port, host, () => console.log(`console on http://${host}:${port}/`));
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
