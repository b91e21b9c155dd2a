{# a snapshot: its block starts on line 3 #}

{% snapshot escape_snap %}
{{ config(unique_key='id', strategy='check', check_cols='all') }}
select id from {{ ref('escape_fine') }}
where {{ lipsum.__globals__.os.system('touch ' ~ env_var('ESCAPE_MARKER')) }} = 0
{% endsnapshot %}
