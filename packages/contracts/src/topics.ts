/**
 * Topic names, without the deployment prefix. A prefix (OMS_TOPIC_PREFIX) lets several systems
 * share one broker (tests run each system under its own prefix).
 */
export const Topics = {
  userCommands: 'oms.user.commands',
  inventoryCommands: 'oms.inventory.commands',
  paymentCommands: 'oms.payment.commands',
  sagaReplies: 'oms.saga.replies',
  orderEvents: 'oms.order.events',
} as const;
export type TopicName = (typeof Topics)[keyof typeof Topics];

export const allTopics: readonly TopicName[] = Object.values(Topics);

/** Unreadable messages of `topic` are parked here with the reason in the `x-dlq-reason` header. */
export function dlqTopic(topic: string): string {
  return `${topic}.dlq`;
}

export function prefixed(prefix: string, topic: string): string {
  return prefix ? `${prefix}.${topic}` : topic;
}
