import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { contextOf, logFields, startTelemetry, traceparentOf, tracesEndpoint, tracesProtocol, tracingOn, withOrderId } from '../src/telemetry.ts';

test('traces go where the standard variables say, the per-signal endpoint first; none without one, or when disabled', () => {
  assert.equal(tracesEndpoint({}), undefined);
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), 'http://collector:4318/v1/traces');
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces' }), 'http://b:4318/traces');
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined);
  assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_SDK_DISABLED: 'TRUE' }), undefined, 'case-insensitive, as the standard says');
  assert.throws(() => tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'zipkin' }), /OTEL_TRACES_EXPORTER must be otlp or none/);
});

test('OTLP over HTTP: protobuf by default (the standard), JSON when asked, the per-signal setting first; gRPC refused with the way out', () => {
  assert.equal(tracesProtocol({}), 'http/protobuf');
  assert.equal(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), 'http/json');
  assert.equal(tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }), 'http/protobuf');
  assert.throws(() => tracesProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), /gRPC is not supported/);
});

test('without an endpoint nothing is traced: no span, no traceparent to store; log lines still carry the order id', async () => {
  const telemetry = await startTelemetry('order', {});
  assert.equal(telemetry.endpoint, undefined);
  assert.equal(tracingOn(), false);
  assert.equal(traceparentOf(ROOT_CONTEXT), null);
  assert.equal(traceparentOf(contextOf('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')), null, "a caller's header is not even parsed");
  const orderId = '2f1c7e0a-4b8e-4a43-9d7e-5b3c1f0e9a11';
  // The context manager is set up, so the order id reaches code running in the context (the logger's mixin).
  assert.deepEqual(await context.with(withOrderId(ROOT_CONTEXT, orderId), () => Promise.resolve().then(() => logFields())), { orderId }, 'across an await too');
  assert.deepEqual(logFields(), {});
  await telemetry.shutdown();
});

test('a bad sampler or number in the OTEL_ variables is a clear start-up error', async () => {
  await assert.rejects(startTelemetry('order', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_TRACES_SAMPLER: 'sometimes' }), /OTEL_TRACES_SAMPLER must be one of always_on, always_off/);
  await assert.rejects(startTelemetry('order', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_BSP_SCHEDULE_DELAY: 'soon' }), /OTEL_BSP_SCHEDULE_DELAY must be a non-negative number/);
  assert.equal(tracingOn(), false);
});
