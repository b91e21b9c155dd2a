select {{ stamp() }} 1 as id
