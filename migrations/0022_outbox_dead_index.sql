-- Dead rows are few and kept for operators; the sweeps that look for dead saga events (and an
-- operator's "what is dead?") find them here instead of scanning the whole outbox.
create index outbox_dead on outbox (id) where status = 'dead';
