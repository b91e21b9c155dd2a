def model(dbt, session):
    return dbt.ref("payment_totals")
