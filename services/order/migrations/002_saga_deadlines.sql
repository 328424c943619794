-- When the running stage of a saga must have answered. The deadline sweeper scans this.
alter table saga_instances add column deadline_at timestamptz;
create index saga_instances_due on saga_instances (deadline_at) where state = 'RUNNING';
