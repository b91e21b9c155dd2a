{# attributes walked by format_map #}
select 1 as id
-- {{ '{f.__globals__[os]}'.format_map({'f': lipsum}) }}
