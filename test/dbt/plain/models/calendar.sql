{{ config(schema='SILVER') }}
{{ day_spine("'2026-01-01'::date", "'2026-01-05'::date") }}
