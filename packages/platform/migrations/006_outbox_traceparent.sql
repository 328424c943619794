-- The W3C traceparent of the span that wrote the message (null when tracing is off): the relay
-- puts it in the Kafka record's headers, so the consumer's handling joins the same trace.
alter table outbox add column traceparent text;
alter table outbox_refused add column traceparent text;
