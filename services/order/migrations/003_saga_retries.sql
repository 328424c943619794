-- When a saga next needs the clock (its stage deadline, or a step's next attempt: a command or a
-- compensation sent again, or given up). The sweeper scans this instead of deadline_at.
alter table saga_instances add column wake_at timestamptz;
-- In COMPENSATION_FAILED: the state an operator's retry resumes (COMPENSATING or CANCELLING).
alter table saga_instances add column resume_state text;
update saga_instances set wake_at = deadline_at where state = 'RUNNING';
drop index if exists saga_instances_due;
create index saga_instances_wake on saga_instances (wake_at) where wake_at is not null;
-- Operators list sagas that need them.
create index saga_instances_attention on saga_instances (updated_at) where state not in ('SUCCEEDED', 'FAILED', 'CANCELLED');
