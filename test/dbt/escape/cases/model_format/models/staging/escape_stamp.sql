{# attributes walked by a format string #}
select 1 as id
-- {{ '{0.__class__.__mro__[1]}'.format('') }}
