/** The fault suite's summary: faults injected, orders placed, orders per final state, violations. */
export interface FaultSummary {
  text: string;
  json: Record<string, unknown>;
}

export function faultSummary(o: {
  faults: ReadonlyMap<string, number>;
  orders: readonly string[];
  failureReasons: readonly string[];
  cancelRequests: number;
  /** Operator retries sent to random order instances while sagas ran. */
  retryRequests?: number;
  /** The shape of the system: instances of every service, Kafka nodes. */
  shape?: { instances: number; kafkaNodes: number };
  clientRetries: number;
  poisonSent: number;
  poisonParked: number;
  violations: readonly string[];
  seconds: number;
}): FaultSummary {
  const perState = new Map<string, number>();
  for (const s of o.orders) perState.set(s, (perState.get(s) ?? 0) + 1);
  const reasons = new Map<string, number>();
  for (const r of o.failureReasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  const totalFaults = [...o.faults.values()].reduce((a, b) => a + b, 0);
  const lines = [
    '',
    `══ fault suite summary${o.shape ? ` (${o.shape.instances} instance${o.shape.instances > 1 ? 's' : ''} of every service, ${o.shape.kafkaNodes} Kafka node${o.shape.kafkaNodes > 1 ? 's' : ''})` : ''} ══`,
    `faults injected: ${totalFaults}`,
    ...[...o.faults].map(([kind, n]) => `  ${String(n).padStart(3)} × ${kind}`),
    `orders placed: ${o.orders.length} (cancel requested for ${o.cancelRequests}${o.retryRequests ? `, operator retry for ${o.retryRequests}` : ''}; ${o.clientRetries} client retries while parts were down)`,
    ...[...perState].sort().map(([state, n]) => `  ${String(n).padStart(5)} ${state}`),
    `failure reasons: ${[...reasons].sort((a, b) => b[1] - a[1]).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`,
    `poison messages: ${o.poisonSent} sent, ${o.poisonParked} parked as dead letters`,
    `invariant violations: ${o.violations.length}`,
    ...o.violations.slice(0, 20).map((v) => `  ✗ ${v}`),
    `running time: ${o.seconds.toFixed(0)} s`,
    '',
  ];
  return {
    text: lines.join('\n'),
    json: {
      faults: Object.fromEntries(o.faults),
      faultsInjected: totalFaults,
      ordersPlaced: o.orders.length,
      ordersPerFinalState: Object.fromEntries(perState),
      failureReasons: Object.fromEntries(reasons),
      cancelRequests: o.cancelRequests,
      retryRequests: o.retryRequests ?? 0,
      ...(o.shape ? { shape: o.shape } : {}),
      clientRetries: o.clientRetries,
      poisonSent: o.poisonSent,
      poisonParked: o.poisonParked,
      invariantViolations: o.violations.length,
      violations: o.violations,
      seconds: Math.round(o.seconds),
    },
  };
}
