select {{ helpers.now() }} as at
