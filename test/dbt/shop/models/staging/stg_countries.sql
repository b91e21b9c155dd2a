select code as country_code, name as country_name, region
from {{ ref('country_codes') }}
