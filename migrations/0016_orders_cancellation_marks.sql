-- A cancellation that found no order. The order saga cancels an order whose create it could not
-- confirm (a timeout, a 5xx), and that create may still arrive afterwards: the mark makes
-- POST /orders refuse the id (409 OrderConflict) instead of leaving an orphan PENDING order, as
-- inventory's RELEASED reservations refuse a late reserve.
create table orders.cancellation_marks (
  order_id   uuid primary key,
  reason     text not null,
  created_at timestamptz not null default now()
);
