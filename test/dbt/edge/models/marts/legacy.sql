{{ config(enabled=var('keep_legacy')) }}
select 1 as x
