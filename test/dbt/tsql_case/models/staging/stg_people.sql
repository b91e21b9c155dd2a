-- every column as SQL Server names it ("PersonId", ...): a test of
-- personid finds "PersonId"
SELECT * FROM {{ source('person', 'Person') }}
