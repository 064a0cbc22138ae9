-- Retention deletes finished sagas (their steps go with them, on delete cascade) oldest first, in
-- small batches. This index holds only finished sagas, so each batch reads the few rows it deletes
-- instead of walking the whole table; in-flight and needs_attention sagas never enter it.
create index saga_instances_finished on saga_instances (updated_at) where state in ('completed', 'compensated');
