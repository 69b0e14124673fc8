-- Rehearsal only: a small payments schema on the "dev" server, standing for the real one.
-- psql variables: rows (how many payments to seed), app_password (the app role's password).
\set ON_ERROR_STOP on
CREATE ROLE payments_app LOGIN PASSWORD :'app_password';
CREATE TABLE public.merchants (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.payments (
    id bigserial PRIMARY KEY,
    payment_ref text NOT NULL UNIQUE,
    merchant_id bigint NOT NULL REFERENCES public.merchants (id),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    currency char(3) NOT NULL DEFAULT 'USD',
    status text NOT NULL,
    version integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_merchant_idx ON public.payments (merchant_id);
INSERT INTO public.merchants (name) SELECT 'merchant-' || g FROM generate_series(1, 20) AS g;
INSERT INTO public.payments (payment_ref, merchant_id, amount_cents, status, version)
SELECT format('s-%s', lpad(g::text, 8, '0')), 1 + g % 20, 100 + g * 7, 'settled', 0
  FROM generate_series(1, :rows) AS g;
GRANT USAGE ON SCHEMA public TO payments_app;
GRANT SELECT ON public.merchants TO payments_app;
GRANT SELECT, INSERT, UPDATE ON public.payments TO payments_app;
GRANT USAGE ON SEQUENCE public.payments_id_seq TO payments_app;
