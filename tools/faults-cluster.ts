// `npm run test:faults-cluster`: the fault suite again with two instances of every service and a
// three-node Kafka cluster (one instance of each service SIGKILLed at a time, one broker at a time
// killed and restarted, cancels and operator retries sent to random instances). `.ci/run` runs it
// after `npm test`.
import { spawn } from 'node:child_process';

const root = new URL('../', import.meta.url).pathname;
const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['tools/test.ts', 'test/faults/fault-suite.test.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, OMS_FAULTS_INSTANCES: process.env.OMS_FAULTS_INSTANCES || '2', OMS_FAULTS_KAFKA_NODES: process.env.OMS_FAULTS_KAFKA_NODES || '3' },
  });
  child.on('exit', (c) => resolve(c ?? 1));
});
process.exit(code);
