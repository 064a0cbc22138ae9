-- The price catalogue the edge API reads at checkout, so the amount charged is computed from server
-- data, never taken from the client. One price per sku and currency, in integer minor units.
create table catalogue (
  sku        text not null,
  currency   char(3) not null check (currency ~ '^[A-Z]{3}$'),
  unit_price bigint not null check (unit_price > 0),
  name       text not null,
  primary key (sku, currency)
);

insert into catalogue (sku, currency, unit_price, name) values
  ('TSHIRT-RED-M',  'EUR', 1999, 'Red T-shirt, M'),
  ('TSHIRT-RED-M',  'USD', 2199, 'Red T-shirt, M'),
  ('MUG-BLUE',      'EUR',  899, 'Blue mug'),
  ('MUG-BLUE',      'USD',  999, 'Blue mug'),
  ('SOCKS-3PACK',   'EUR', 1250, 'Socks, pack of 3'),
  ('SOCKS-3PACK',   'USD', 1350, 'Socks, pack of 3'),
  ('POSTER-MAP',    'EUR', 2500, 'World map poster'),
  ('POSTER-MAP',    'USD', 2750, 'World map poster'),
  ('HOODIE-GREY-L', 'EUR', 4900, 'Grey hoodie, L'),
  ('HOODIE-GREY-L', 'USD', 5400, 'Grey hoodie, L');
