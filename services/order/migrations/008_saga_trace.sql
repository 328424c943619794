-- The W3C traceparent of the request that placed the order (null when tracing is off): what the
-- clock sends later (a retry, a compensation after a deadline) joins the order's trace.
alter table saga_instances add column traceparent text;
