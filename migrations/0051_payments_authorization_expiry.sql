-- Why a hold was released: 'voided' on request (a saga's compensation, a failed checkout) or
-- 'expired' by AUTHORIZATION_TTL. NULL while the payment is not VOIDED.
alter table payments.authorizations add column void_reason text
  check (void_reason in ('voided', 'expired'));

-- The expiry sweep's lookup: only open holds, oldest first.
create index authorizations_open on payments.authorizations (created_at) where status = 'AUTHORIZED';
