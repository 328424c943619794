// `node packages/platform/src/create-topics.ts`: the system's topics and their dead-letter topics,
// made if missing, with OMS_TOPIC_PARTITIONS partitions and OMS_KAFKA_REPLICATION_FACTOR copies
// (the Compose file's `topics` step, a Kubernetes Job). The services also do it when they start
// unless OMS_CREATE_TOPICS=false; this makes the start order explicit.
import Type from 'typebox';
import { BaseConfig, loadConfig } from './config.ts';
import { ensureTopics, systemTopics } from './messaging/topics.ts';

const config = loadConfig({
  KAFKA_BROKERS: BaseConfig.KAFKA_BROKERS,
  OMS_TOPIC_PREFIX: BaseConfig.OMS_TOPIC_PREFIX,
  OMS_TOPIC_PARTITIONS: BaseConfig.OMS_TOPIC_PARTITIONS,
  OMS_KAFKA_REPLICATION_FACTOR: BaseConfig.OMS_KAFKA_REPLICATION_FACTOR,
  OMS_TOPIC_TIMEOUT_MS: Type.Integer({ minimum: 1_000, default: 120_000 }),
});
const topics = systemTopics(config.OMS_TOPIC_PREFIX, config.OMS_TOPIC_PARTITIONS, config.OMS_KAFKA_REPLICATION_FACTOR);
const brokers = config.KAFKA_BROKERS.split(',').map((b) => b.trim());
const deadline = Date.now() + config.OMS_TOPIC_TIMEOUT_MS;
for (;;) {
  try {
    await ensureTopics(brokers, topics);
    console.log(`${topics.length} topics present on ${brokers.join(',')} (${config.OMS_TOPIC_PARTITIONS} partitions, ${config.OMS_KAFKA_REPLICATION_FACTOR} copies each)`);
    break;
  } catch (error) {
    if (Date.now() > deadline) {
      console.error(`could not make the topics on ${brokers.join(',')}: ${(error as Error).message}`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
