-- personid matches "PersonID" of the customers and "PersonId" of Person:
-- ambiguous, skipped naming both
SELECT personid, FirstName AS first_name
FROM {{ source('sales', 'customer') }} c
JOIN {{ source('person', 'Person') }} p ON p.BusinessEntityID = c.PersonID
