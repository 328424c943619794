// OpenTelemetry traces across the saga: the HTTP request (a server span), and each message a
// consumer handles (a consumer span), child of the span that wrote the message: the outbox row
// keeps that span's W3C traceparent and the relay puts it in the Kafka record's headers. So one
// order is one trace across every service. (No producer span per message written: it would end
// as it starts, say nothing its parent and child do not, and cost half the spans; measured with
// npm run bench -- --traces, see the README.) Traces are exported over OTLP/HTTP only when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise no SDK is loaded, no span is made and no
// traceparent is stored. Log lines take the order id and trace id of the request or message they
// are written in (`logFields`, the logger's mixin).
import { hostname } from 'node:os';
import { context, createContextKey, diag, DiagLogLevel, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

const ORDER_ID = createContextKey('oms.order_id');
let tracer: Tracer = trace.getTracer('@oms/platform', '0.1.0');
let tracing = false;
let contextManager: AsyncLocalStorageContextManager | undefined;

/** True once this process exports traces. */
export function tracingOn(): boolean {
  return tracing;
}

/** Where traces go, or undefined when they are off (the standard variables, the per-signal one first). */
export function tracesEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp';
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp') throw new Error(`OTEL_TRACES_EXPORTER must be otlp or none (traces go out over OTLP), got ${JSON.stringify(env.OTEL_TRACES_EXPORTER)}`);
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/** A number from the environment, or the default when unset; a clear error when it is not one. */
function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

/** OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL: OTLP over HTTP, protobuf (the standard's default) or JSON; gRPC is refused with the way out. */
export function tracesProtocol(env: NodeJS.ProcessEnv): 'http/protobuf' | 'http/json' {
  const raw = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf').trim().toLowerCase();
  if (raw === 'http/protobuf' || raw === 'http/json') return raw;
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (OTLP over HTTP, usually port 4318; gRPC is not supported), got ${JSON.stringify(raw)}`);
}

/** OTEL_RESOURCE_ATTRIBUTES: `key=value,…`, values percent-encoded (the standard's format). */
function resourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      out[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      throw new Error(`OTEL_RESOURCE_ATTRIBUTES has a badly encoded value: ${JSON.stringify(pair)}`);
    }
  }
  return out;
}

/** What the SDK reports about itself (a failed export, a dropped span): into the service's log, warnings and up. */
export interface DiagnosticsLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Sets up this process's telemetry for `service`: the context that carries the order id (and the
 * span, when tracing) into log lines, and, when an OTLP endpoint is configured, the trace SDK with
 * a batching OTLP/HTTP exporter (protobuf or JSON). Honours OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG), OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL,
 * _HEADERS and OTEL_BSP_*; a setting it cannot honour is a start-up error. Returns what flushes
 * and stops it.
 */
export async function startTelemetry(service: string, env: NodeJS.ProcessEnv = process.env, log?: DiagnosticsLog): Promise<{ endpoint?: string; shutdown(): Promise<void> }> {
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  const endpoint = tracesEndpoint(env);
  // One provider per process (tests may run several services in one).
  if (!endpoint || tracing) return { shutdown: () => Promise.resolve() };
  // Loaded only when tracing: a process without it carries none of the SDK.
  const protocol = tracesProtocol(env);
  const [sdk, { OTLPTraceExporter }, { W3CTraceContextPropagator }, resources] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  const samplerName = (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on');
  const ratio = samplerName.endsWith('traceidratio') ? envNumber(env, 'OTEL_TRACES_SAMPLER_ARG', 1) : 1;
  if (ratio > 1) throw new Error(`OTEL_TRACES_SAMPLER_ARG is the share of traces kept, from 0 to 1, got ${JSON.stringify(env.OTEL_TRACES_SAMPLER_ARG)}`);
  const samplers = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => new sdk.TraceIdRatioBasedSampler(ratio),
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
  };
  if (!(samplerName in samplers)) throw new Error(`OTEL_TRACES_SAMPLER must be one of ${Object.keys(samplers).join(', ')}, got ${JSON.stringify(env.OTEL_TRACES_SAMPLER)}`);
  // Ours, then OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME: each wins over the one before (the standard's order).
  const resource = resources.resourceFromAttributes({
    'service.name': `oms-${service}`,
    'service.namespace': 'oms',
    'service.version': '0.1.0',
    'service.instance.id': `${hostname()}:${process.pid}`,
    ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    ...(env.OTEL_SERVICE_NAME ? { 'service.name': env.OTEL_SERVICE_NAME } : {}),
  });
  if (log) {
    diag.setLogger(
      {
        error: (message, ...args) => log.error({ args }, `OpenTelemetry: ${message}`),
        warn: (message, ...args) => log.warn({ args }, `OpenTelemetry: ${message}`),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
  }
  const processor = new sdk.BatchSpanProcessor({
    exporter: new OTLPTraceExporter({ url: endpoint }),
    scheduledDelayMillis: envNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 5_000),
    maxQueueSize: envNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2_048),
    maxExportBatchSize: envNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
    exportTimeoutMillis: envNumber(env, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
  });
  const provider = new sdk.TracerProvider({ resource, sampler: samplers[samplerName as keyof typeof samplers](), spanProcessors: [processor] });
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer('@oms/platform', '0.1.0');
  tracing = true;
  return {
    endpoint,
    /** Flushes what is left (at most `timeoutMs`: a stopping container has seconds) and stops tracing. */
    async shutdown(timeoutMs = 3_000) {
      tracing = false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([provider.shutdown(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]).finally(() => clearTimeout(timer));
      trace.disable();
      propagation.disable();
      diag.disable();
    },
  };
}

/** `ctx` with the order a request or message is about (for log lines). */
export function withOrderId(ctx: Context, orderId: string): Context {
  return ctx.setValue(ORDER_ID, orderId);
}

/** Runs `fn` outside the current request's or message's context: background work a request starts must not carry its trace or its order id. */
export function inBackground<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}

/** Names the order the current span is about (a request that creates an order learns its id late). */
export function spanIsAbout(orderId: string): void {
  trace.getActiveSpan()?.setAttribute('oms.order_id', orderId);
}

/** The order id and trace id of `ctx` (the current context by default): what every log line of a request or message carries. */
export function logFields(ctx: Context = context.active()): { orderId?: string; traceId?: string; spanId?: string } {
  const orderId = ctx.getValue(ORDER_ID) as string | undefined;
  const span = trace.getSpanContext(ctx);
  if (!orderId && !span) return {};
  const fields: { orderId?: string; traceId?: string; spanId?: string } = {};
  if (orderId) fields.orderId = orderId;
  if (span && isSpanContextValid(span)) {
    fields.traceId = span.traceId;
    fields.spanId = span.spanId;
  }
  return fields;
}

/** The W3C traceparent of `ctx`'s span, or null when tracing is off or there is none. */
export function traceparentOf(ctx: Context): string | null {
  if (!tracing) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ?? null;
}

/** The traceparent of the current span (a request's), or null. */
export function currentTraceparent(): string | null {
  return traceparentOf(context.active());
}

/** The context a traceparent continues (the root context without one, or without tracing). */
export function contextOf(traceparent: string | null | undefined): Context {
  if (!tracing || !traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}


/** A span of this service's work, child of `parent`; undefined when tracing is off. */
export function startSpan(name: string, kind: SpanKind, parent: Context, attributes: Attributes): Span | undefined {
  if (!tracing) return undefined;
  return tracer.startSpan(name, { kind, attributes }, parent);
}

/** Ends a span, as failed with `error` when there is one. */
export function endSpan(span: Span | undefined, error?: string): void {
  if (!span) return;
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}

// The context each message being handled runs in (its consumer span and order id), for what its
// handling sends: batch handlers run many messages in one call, so the ambient context cannot say.
const messageContexts = new WeakMap<object, Context>();

export function setMessageContext(message: object, ctx: Context): void {
  messageContexts.set(message, ctx);
}

/** The context a message is being handled in; the current one when it has none of its own. */
export function messageContext(message: object): Context {
  return messageContexts.get(message) ?? context.active();
}

export { context, SpanKind, trace, type Context, type Span };
