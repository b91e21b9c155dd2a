-- DATEDIFF counts the boundaries crossed, as SQL Server does: one day from
-- 23:00 to 01:00 the next day; four Sundays in January 2024; one month
-- from January 31 to February 1.  DATEPART and DATENAME as SQL Server
-- numbers and names them: Sunday 2024-01-07 is weekday 1, in week 2
SELECT DATEDIFF(day, '2024-01-01 23:00', '2024-01-02 01:00') AS days,
       DATEDIFF(week, '2024-01-01', '2024-01-31') AS weeks,
       DATEDIFF(month, '2024-01-31', '2024-02-01') AS months,
       DATEDIFF(year, '2023-12-31', '2024-01-01') AS years,
       DATEDIFF(hour, '2024-01-01 10:59', '2024-01-01 11:00') AS hours,
       DATEPART(weekday, '2024-01-07') AS weekday, DATEPART(wk, '2024-01-07') AS week,
       YEAR('2024-01-07') * 100 + MONTH('2024-01-07') AS yearmonth,
       DATENAME(month, '2024-01-07') + ' ' + DATENAME(dw, '2024-01-07') AS names
